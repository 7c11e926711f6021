package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/easd/easd/internal/config"
)

// parseQuietly runs parse (which calls fs.Parse) without letting the flag
// package print anything: on a bad value it would print its error naming
// the flag with one dash, then the whole usage. Instead, -h prints the
// usage and returns flag.ErrHelp, and every other failure comes back as
// one line naming --flag and its EASD_* variable, as a bad environment
// variable does.
func parseQuietly(fs *flag.FlagSet, parse func() error) error {
	usage, out := fs.Usage, fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := parse()
	fs.Usage = usage
	fs.SetOutput(out)
	if errors.Is(err, flag.ErrHelp) {
		usage()
		return err
	}
	return flagError(fs, err)
}

var (
	reBadValue   = regexp.MustCompile(`^invalid (?:boolean )?value ("(?:[^"\\]|\\.)*") for (?:flag )?-(\S+): (.*)$`)
	reBadBool    = regexp.MustCompile(`^invalid boolean flag (\S+): (.*)$`)
	reNeedsArg   = regexp.MustCompile(`^flag needs an argument: -(\S+)$`)
	reNotDefined = regexp.MustCompile(`^flag provided but not defined: -(\S+)$`)
)

// flagError rewrites the flag package's errors as config.Errors.
func flagError(fs *flag.FlagSet, err error) error {
	if err == nil {
		return nil
	}
	var ce *config.Error
	if errors.As(err, &ce) {
		return err
	}
	msg := err.Error()
	if m := reBadValue.FindStringSubmatch(msg); m != nil {
		return &config.Error{Flag: m[2], Msg: m[1] + ": " + valueHint(fs.Lookup(m[2]), m[3])}
	}
	if m := reBadBool.FindStringSubmatch(msg); m != nil {
		return &config.Error{Flag: m[1], Msg: "must be true or false"}
	}
	if m := reNeedsArg.FindStringSubmatch(msg); m != nil {
		return &config.Error{Flag: m[1], Msg: "needs a value (--" + m[1] + "=VALUE)"}
	}
	if m := reNotDefined.FindStringSubmatch(msg); m != nil {
		return fmt.Errorf("unknown flag --%s (see %s -h)", m[1], fs.Name())
	}
	return err
}

// valueHint replaces the flag package's bare "parse error" with what the
// setting takes, guessed from its default.
func valueHint(f *flag.Flag, reason string) string {
	if reason != "parse error" || f == nil {
		return reason
	}
	if _, err := strconv.ParseBool(f.DefValue); err == nil {
		return "must be true or false"
	}
	if _, err := strconv.ParseInt(f.DefValue, 10, 64); err == nil {
		return "must be a whole number"
	}
	if _, err := time.ParseDuration(f.DefValue); err == nil {
		return "must be a duration such as 30s, 5m or 1h"
	}
	return reason
}

// oneLine drops a prefix that an error repeats because two layers each
// named their package ("easd device: device: list: x", "imap: login:
// imap: NO x"): a one-word segment said once already is said once.
func oneLine(s string) string {
	parts := strings.Split(s, ": ")
	seen := map[string]bool{}
	out := parts[:0:0]
	for i, p := range parts {
		word := !strings.ContainsAny(p, " \t\"'") && p != ""
		if word && seen[p] && i < len(parts)-1 {
			continue
		}
		out = append(out, p)
		// "easd device" names both words as prefixes.
		if f := strings.Fields(p); len(f) <= 2 {
			for _, w := range f {
				seen[w] = true
			}
		}
	}
	return strings.Join(out, ": ")
}
