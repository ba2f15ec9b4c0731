package numa

import (
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
)

// WriteTable writes the plan for people: the topology summary, a line about
// the plan as a whole, one fixed-width row per shard (id, node, memory policy,
// CPUs in list syntax, port, memory cap) and the warnings.
func (p *Plan) WriteTable(w io.Writer) error {
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "topology: %s\n", p.Topology)
	fmt.Fprintf(ew, "plan: %s", plural(len(p.Shards), "shard"))
	if n := len(p.Shards); n > 0 {
		if n == 1 {
			fmt.Fprintf(ew, ", port %d", p.BasePort)
		} else {
			fmt.Fprintf(ew, ", ports %d-%d", p.BasePort, p.BasePort+n-1)
		}
	}
	if len(p.Reserved) > 0 {
		fmt.Fprintf(ew, ", reserved CPUs %s", FormatCPUList(p.Reserved))
	}
	if len(p.Idle) > 0 {
		fmt.Fprintf(ew, ", idle CPUs %s", FormatCPUList(p.Idle))
	}
	fmt.Fprintln(ew)

	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "shard\tnode\tmem\tcpus\tport\tmemcap")
	for _, s := range p.Shards {
		mem := "default"
		if s.MemNode >= 0 {
			mem = "bind:" + strconv.Itoa(s.MemNode)
		}
		memCap := "none"
		if s.MemCap > 0 {
			memCap = FormatBytes(s.MemCap)
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%d\t%s\n", s.ID, s.Node, mem, FormatCPUList(s.CPUs), s.Port, memCap)
	}
	tw.Flush()
	for _, warn := range p.Warnings {
		fmt.Fprintf(ew, "warning: %s\n", warn)
	}
	if ew.err != nil {
		return fmt.Errorf("numa: writing plan: %w", ew.err)
	}
	return nil
}

// errWriter latches the first write error so the table code can write
// without checking each call.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}
