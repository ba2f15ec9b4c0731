#include "textflag.h"

// One accumulator X moved forward and xored with the 16 bytes at off(SI):
// X = lo(X)*lo(K) ^ hi(X)*hi(K) ^ block. T is scratch.
#define FOLD(X, T, off) \
	MOVOU X, T; \
	PCLMULQDQ $0x00, X5, X; \
	PCLMULQDQ $0x11, X5, T; \
	PXOR T, X; \
	MOVOU off(SI), T; \
	PXOR T, X

// One accumulator moved forward by 128 bits into the next: N ^= fold(X).
#define MERGE(X, N) \
	MOVOU X, X6; \
	PCLMULQDQ $0x00, X5, X; \
	PCLMULQDQ $0x11, X5, X6; \
	PXOR X6, X; \
	PXOR X, N

// func foldCLMUL(crc uint64, p []byte, k *[4]uint64) (lo, hi uint64)
TEXT ·foldCLMUL(SB), NOSPLIT, $0-56
	MOVQ crc+0(FP), AX
	MOVQ p_base+8(FP), SI
	MOVQ p_len+16(FP), CX
	MOVQ k+32(FP), DX

	MOVOU 0(SI), X0
	MOVOU 16(SI), X1
	MOVOU 32(SI), X2
	MOVOU 48(SI), X3
	MOVQ AX, X4
	PXOR X4, X0
	ADDQ $64, SI
	SUBQ $64, CX
	MOVOU 0(DX), X5

loop:
	CMPQ CX, $64
	JB   merge
	FOLD(X0, X7, 0)
	FOLD(X1, X8, 16)
	FOLD(X2, X9, 32)
	FOLD(X3, X10, 48)
	ADDQ $64, SI
	SUBQ $64, CX
	JMP  loop

merge:
	MOVOU 16(DX), X5
	MERGE(X0, X1)
	MERGE(X1, X2)
	MERGE(X2, X3)
	MOVQ   X3, AX
	PEXTRQ $1, X3, BX
	MOVQ   AX, lo+40(FP)
	MOVQ   BX, hi+48(FP)
	RET
