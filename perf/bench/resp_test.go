package main

import (
	"bufio"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestReadReply(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    reply
		wantErr error // nil: any error acceptable when bad is set
		bad     bool
	}{
		{name: "simple", in: "+OK\r\n", want: reply{Kind: '+', Str: "OK"}},
		{name: "error", in: "-ERR unknown command\r\n", want: reply{Kind: '-', Str: "ERR unknown command"}},
		{name: "integer", in: ":-42\r\n", want: reply{Kind: ':', Int: -42}},
		{name: "zero", in: ":0\r\n", want: reply{Kind: ':'}},
		{name: "bulk", in: "$5\r\nhe\r\no\r\n", want: reply{Kind: '$', Str: "he\r\no"}},
		{name: "empty bulk", in: "$0\r\n\r\n", want: reply{Kind: '$', Str: ""}},
		{name: "null bulk", in: "$-1\r\n", want: reply{Kind: '$', Null: true}},
		{name: "null array", in: "*-1\r\n", want: reply{Kind: '*', Null: true}},
		{name: "empty array", in: "*0\r\n", want: reply{Kind: '*', Elems: []reply{}}},
		{name: "nested", in: "*2\r\n:1\r\n*1\r\n$1\r\nx\r\n", want: reply{Kind: '*', Elems: []reply{
			{Kind: ':', Int: 1}, {Kind: '*', Elems: []reply{{Kind: '$', Str: "x"}}}}}},
		{name: "eof", in: "", wantErr: io.EOF, bad: true},
		{name: "truncated line", in: "+OK", wantErr: io.ErrUnexpectedEOF, bad: true},
		{name: "truncated bulk", in: "$5\r\nab", wantErr: io.ErrUnexpectedEOF, bad: true},
		{name: "truncated array", in: "*2\r\n:1\r\n", wantErr: io.ErrUnexpectedEOF, bad: true},
		{name: "bare LF", in: "+OK\n", wantErr: errProtocol, bad: true},
		{name: "bulk without CRLF", in: "$2\r\nabXY", wantErr: errProtocol, bad: true},
		{name: "unknown type", in: "%1\r\n", wantErr: errProtocol, bad: true},
		{name: "empty line", in: "\r\n", wantErr: errProtocol, bad: true},
		{name: "bad int", in: ":12a\r\n", wantErr: errProtocol, bad: true},
		{name: "plus int", in: ":+1\r\n", wantErr: errProtocol, bad: true},
		{name: "leading zero", in: ":01\r\n", wantErr: errProtocol, bad: true},
		{name: "minus zero", in: ":-0\r\n", wantErr: errProtocol, bad: true},
		{name: "int overflow", in: ":9223372036854775808\r\n", wantErr: errProtocol, bad: true},
		{name: "negative bulk", in: "$-2\r\n", wantErr: errProtocol, bad: true},
		{name: "huge bulk", in: "$999999999999\r\n", wantErr: errProtocol, bad: true},
		{name: "huge array", in: "*99999999\r\n", wantErr: errProtocol, bad: true},
		{name: "too deep", in: strings.Repeat("*1\r\n", maxReplyNest+2) + ":1\r\n", wantErr: errProtocol, bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readReply(bufio.NewReader(strings.NewReader(tt.in)))
			if tt.bad {
				if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
			if enc := string(appendReply(nil, got)); enc != tt.in {
				t.Errorf("re-encoded as %q, want %q", enc, tt.in)
			}
		})
	}
}

func TestAppendCommand(t *testing.T) {
	got := string(appendCommand(nil, "SET", "k", ""))
	want := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"
	if got != want {
		t.Errorf("appendCommand = %q, want %q", got, want)
	}
}

func TestReplyString(t *testing.T) {
	tests := []struct {
		r    reply
		want string
	}{
		{reply{Kind: '+', Str: "OK"}, `"OK"`},
		{reply{Kind: '-', Str: "ERR x"}, "(error) ERR x"},
		{reply{Kind: ':', Int: 7}, "7"},
		{reply{Kind: '$', Null: true}, "(nil)"},
		{reply{Kind: '*', Elems: make([]reply, 3)}, "(array of 3)"},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.r, got, tt.want)
		}
	}
}
