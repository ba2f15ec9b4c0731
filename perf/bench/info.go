package main

import "strings"

// infoField is one "key:value" line of an INFO reply.
type infoField struct {
	Section string `json:"section"`
	Key     string `json:"key"`
	Value   string `json:"value"`
}

// parseInfo splits an INFO reply into fields, in order. "# Name" lines start
// a section; blank lines and lines without a colon are skipped.
func parseInfo(s string) []infoField {
	var fields []infoField
	section := ""
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			continue
		}
		if line[0] == '#' {
			section = strings.TrimSpace(line[1:])
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" {
			continue
		}
		fields = append(fields, infoField{Section: section, Key: k, Value: v})
	}
	return fields
}

// infoValue returns the value of key, or "" when absent.
func infoValue(fields []infoField, key string) string {
	for _, f := range fields {
		if f.Key == key {
			return f.Value
		}
	}
	return ""
}

// runtimeFields keeps the fields whose names start with gc_ or heap_ (Go
// runtime metrics a Shoal shard may report under INFO memory).
func runtimeFields(fields []infoField) []infoField {
	var out []infoField
	for _, f := range fields {
		if strings.HasPrefix(f.Key, "gc_") || strings.HasPrefix(f.Key, "heap_") {
			out = append(out, f)
		}
	}
	return out
}
