#include "textflag.h"

// One accumulator X moved forward and xored with block B:
// X = lo(X)*lo(V5) ^ hi(X)*hi(V5) ^ B. T and U are scratch.
#define FOLD(X, B, T, U) \
	VPMULL  V5.D1, X.D1, T.Q1; \
	VPMULL2 V5.D2, X.D2, U.Q1; \
	VEOR    T.B16, U.B16, X.B16; \
	VEOR    B.B16, X.B16, X.B16

// func foldCLMUL(crc uint64, p []byte, k *[4]uint64) (lo, hi uint64)
TEXT ·foldCLMUL(SB), NOSPLIT, $0-56
	MOVD crc+0(FP), R0
	MOVD p_base+8(FP), R1
	MOVD p_len+16(FP), R2
	MOVD k+32(FP), R3

	VLD1.P 64(R1), [V0.D2, V1.D2, V2.D2, V3.D2]
	VEOR   V4.B16, V4.B16, V4.B16
	VMOV   R0, V4.D[0]
	VEOR   V4.B16, V0.B16, V0.B16
	SUB    $64, R2
	VLD1   (R3), [V5.D2, V6.D2]

loop:
	CMP    $64, R2
	BLO    merge
	VLD1.P 64(R1), [V16.D2, V17.D2, V18.D2, V19.D2]
	FOLD(V0, V16, V20, V21)
	FOLD(V1, V17, V22, V23)
	FOLD(V2, V18, V24, V25)
	FOLD(V3, V19, V26, V27)
	SUB    $64, R2
	B      loop

merge:
	VMOV V6.B16, V5.B16
	FOLD(V0, V1, V20, V21)
	FOLD(V0, V2, V20, V21)
	FOLD(V0, V3, V20, V21)
	VMOV V0.D[0], R4
	VMOV V0.D[1], R5
	MOVD R4, lo+40(FP)
	MOVD R5, hi+48(FP)
	RET
