package engine

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "shard.conf")
	os.WriteFile(conf, []byte("# a comment\nport 7000\n\nbind 127.0.0.1 -::1\nhz 20\nsave \"\"\nmaxclients 50\n"), 0o644)
	for _, tc := range []struct {
		name  string
		args  []string
		check func(*Config) bool
		err   string
	}{
		{"defaults", nil, func(c *Config) bool { return c.Port == 6379 && c.Hz == 10 && c.ConfigFile == "" }, ""},
		{"options", []string{"--port", "7001", "--bind", "127.0.0.2", "::1", "--io", "epoll"},
			func(c *Config) bool {
				return c.Port == 7001 && strings.Join(c.Bind, ",") == "127.0.0.2,::1" && c.IO == "epoll"
			}, ""},
		{"file then options", []string{conf, "--port", "7002"},
			func(c *Config) bool {
				return c.Port == 7002 && c.Hz == 20 && c.MaxClients == 50 && c.ConfigFile == conf &&
					strings.Join(c.Bind, ",") == "127.0.0.1,-::1"
			}, ""},
		{"quoted value", []string{"--logfile", "a b.log"}, func(c *Config) bool { return c.LogFile == "a b.log" }, ""},
		{"empty save", []string{"--save"}, func(*Config) bool { return true }, ""},
		{"memory units", []string{"--proto-max-bulk-len", "2mb"}, func(c *Config) bool { return c.ProtoMaxBulkLen == 2<<20 }, ""},
		{"bad number", []string{"--port", "abc"}, nil, "argument couldn't be parsed into an integer"},
		{"unknown", []string{"--nosuchoption", "1"}, nil, "Bad directive or wrong number of arguments"},
		{"not an option", []string{conf, "port"}, nil, "Bad directive or wrong number of arguments"},
		{"bad enum", []string{"--loglevel", "loud"}, nil, "argument(s) must be one of the following: debug, verbose, notice, warning"},
		{"missing file", []string{filepath.Join(dir, "nope.conf")}, nil, "can't open config file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := ParseArgs(tc.args)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(cfg) {
				t.Fatalf("unexpected config %+v", cfg)
			}
		})
	}
}

func TestConfigErrorFormat(t *testing.T) {
	_, err := ParseArgs([]string{"--port", "7000", "--hz", "fast"})
	var ce *ConfigError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v", err)
	}
	want := "\n*** FATAL CONFIG FILE ERROR (Shoal) ***\nReading the configuration file, at line 2\n>>> 'hz fast'\nargument couldn't be parsed into an integer"
	if err.Error() != want {
		t.Fatalf("got %q\nwant %q", err.Error(), want)
	}
}

// FuzzConfigText feeds arbitrary config-file text to the loader: it must
// never panic, and text it accepts must give a configuration whose every
// parameter reads back and loads again unchanged.
func FuzzConfigText(f *testing.F) {
	for _, s := range []string{
		"port 7000\nbind 127.0.0.1 -::1\n",
		"# comment\n\nhz 100\nmaxclients 10\n",
		"logfile \"a b\"\nsave \"\"\n",
		"proto-max-bulk-len 1gb\nclient-query-buffer-limit 1mb\n",
		"loglevel warning\nprotected-mode no\n",
		"port \"unbalanced\n",
		"bind '127.0.0.1'\n",
		"timeout -1\n",
		"active-expire-effort 10\n",
		"io epoll\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		cfg := DefaultConfig()
		if err := cfg.load(text); err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error %v is not a ConfigError", err)
			}
			return
		}
		var again strings.Builder
		for _, p := range params {
			v := p.get(cfg)
			if p.name == "dir" || p.name == "enable-protected-configs" {
				continue
			}
			again.WriteString(p.name + " " + quoteArg(v) + "\n")
		}
		cfg2 := DefaultConfig()
		if err := cfg2.load(again.String()); err != nil {
			t.Fatalf("reloading %q: %v", again.String(), err)
		}
		for _, p := range params {
			if p.get(cfg) != p.get(cfg2) {
				t.Fatalf("%s: %q then %q", p.name, p.get(cfg), p.get(cfg2))
			}
		}
	})
}
