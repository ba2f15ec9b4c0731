package main

import (
	"fmt"
	"regexp"
	"strings"
)

var tableSplit = regexp.MustCompile(` {2,}`)

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
				// The client column is left out when one client ran.
				if len(header) != len(tableHeader) && len(header) != len(tableHeader)-1 {
					return nil, fmt.Errorf("header has %d cells, want %d", len(header), len(tableHeader))
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
