package main

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/easd/easd/wbxml"
)

// runWBXML converts between WBXML and XML on stdin/stdout, for logs and
// support cases: `easd wbxml decode < req.wbxml`, `easd wbxml encode < req.xml`.
func runWBXML(args []string, stdout, stderr io.Writer) int {
	return wbxmlCommand(args, os.Stdin, stdout, stderr)
}

func wbxmlCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) != 1 || (args[0] != "decode" && args[0] != "encode") {
		fmt.Fprintln(stderr, "usage: easd wbxml decode|encode  (reads stdin, writes stdout)")
		return exitUsage
	}
	out := bufio.NewWriterSize(stdout, 64<<10)
	var err error
	if args[0] == "decode" {
		err = wbxml.WriteXML(out, bufio.NewReaderSize(stdin, 64<<10))
	} else {
		err = wbxml.ReadXML(out, bufio.NewReaderSize(stdin, 64<<10))
	}
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintln(stderr, oneLine("easd wbxml: "+err.Error()))
		return 1
	}
	return 0
}
