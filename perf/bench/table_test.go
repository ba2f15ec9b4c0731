package main

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

var tableSplit = regexp.MustCompile(` {2,}`)

// knownHeader reports whether header is that of the benchmark table or
// of the --aof table, with the client column or without (it is left out
// when one client ran).
func knownHeader(header []string) bool {
	lead := []string{"workload", "test", "server", "client", "runs"}
	for _, cols := range [][]column{benchColumns, aofColumns} {
		full := append(slices.Clone(lead), columnNames(cols)...)
		oneClient := slices.DeleteFunc(slices.Clone(full), func(s string) bool { return s == "client" })
		if slices.Equal(header, full) || slices.Equal(header, oneClient) {
			return true
		}
	}
	return false
}

// parseTable reads the benchmark table back from writeTable's output:
// the header line (found by its first cell) and every line after it, cells
// separated by two or more spaces. Lines starting with '#' are skipped.
func parseTable(out string) ([]map[string]string, error) {
	var header []string
	var rows []map[string]string
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, " ")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cells := tableSplit.Split(line, -1)
		if header == nil {
			if cells[0] == tableHeader[0] {
				header = cells
				if !knownHeader(header) {
					return nil, fmt.Errorf("header %q is not the benchmark table's nor the --aof table's", header)
				}
			}
			continue
		}
		if len(cells) != len(header) {
			return nil, fmt.Errorf("line %q has %d cells, want %d", line, len(cells), len(header))
		}
		row := map[string]string{}
		for i, h := range header {
			row[h] = cells[i]
		}
		rows = append(rows, row)
	}
	if header == nil {
		return nil, fmt.Errorf("no table header in %q", out)
	}
	return rows, nil
}
