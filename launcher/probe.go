package launcher

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// errLoading is a shard's -LOADING reply to PING: alive, not ready yet.
var errLoading = errors.New("launcher: shard is loading its data")

// ping sends PING to addr and expects +PONG, all within timeout.
func ping(addr string, timeout time.Duration) error {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, "*1\r\n$4\r\nPING\r\n"); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	switch {
	case err != nil:
		return err
	case line == "+PONG\r\n":
		return nil
	case strings.HasPrefix(line, "-LOADING"):
		return errLoading
	}
	return fmt.Errorf("launcher: PING answered %q", strings.TrimSpace(line))
}

// infoField asks addr for INFO section and returns field's value, "" when
// the reply has no such field.
func infoField(addr, section, field string, timeout time.Duration) (string, error) {
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	req := "*2\r\n$4\r\nINFO\r\n$" + strconv.Itoa(len(section)) + "\r\n" + section + "\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		return "", err
	}
	body, err := readBulk(bufio.NewReader(c))
	if err != nil {
		return "", err
	}
	for line := range strings.Lines(body) {
		if v, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), field+":"); ok {
			return v, nil
		}
	}
	return "", nil
}

// maxInfoReply bounds the INFO reply the launcher reads.
const maxInfoReply = 1 << 20

// readBulk reads one RESP2 bulk string reply (or RESP3 verbatim string).
func readBulk(r *bufio.Reader) (string, error) {
	head, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	head = strings.TrimRight(head, "\r\n")
	if len(head) == 0 || (head[0] != '$' && head[0] != '=') {
		return "", fmt.Errorf("launcher: INFO answered %q", head)
	}
	n, err := strconv.Atoi(head[1:])
	if err != nil || n < 0 || n > maxInfoReply {
		return "", fmt.Errorf("launcher: INFO answered %q", head)
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}
