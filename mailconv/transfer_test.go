package mailconv

import (
	"io"
	"mime/quotedprintable"
	"strings"
	"testing"
)

func TestDecodeQP(t *testing.T) {
	for _, in := range []string{
		"plain text\r\nline two\r\n",
		"soft =\r\nbreak and =C3=A4 and =e2=80=93\r\n",
		"trailing spaces   \r\nand tabs\t\t\r\nlf only  \nend",
		"lower =3d hex, a bad =ZZ sequence, = alone\r\n",
		"ends with a soft break=",
		"=\r\n=\r\n",
	} {
		want, _ := io.ReadAll(quotedprintable.NewReader(strings.NewReader(in)))
		got := decodeQP([]byte(in))
		// The stdlib reader rejects bad sequences; compare only where it
		// accepts the input.
		if _, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(in))); err != nil {
			if !strings.Contains(string(got), "=ZZ") {
				t.Errorf("decodeQP(%q) = %q: bad sequence not kept", in, got)
			}
			continue
		}
		if string(got) != string(want) {
			t.Errorf("decodeQP(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCutUTF8(t *testing.T) {
	s := []byte("aé€😀")
	for n, want := range []string{"", "a", "a", "aé", "aé", "aé", "aé€", "aé€", "aé€", "aé€", "aé€😀"} {
		if got := string(cutUTF8(s, n)); got != want {
			t.Errorf("cutUTF8(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestHTMLToText(t *testing.T) {
	for in, want := range map[string]string{
		"<p>one</p><p>two</p>":                         "one\r\n\r\ntwo",
		"a<br>b<br/>c":                                 "a\r\nb\r\nc",
		"<div>x</div><div>y</div>":                     "x\r\ny",
		"<ul><li>a<li>b</ul>":                          "* a\r\n* b",
		"a &lt; b &amp;&amp; c &gt; d &#x263A; &bogus": "a < b && c > d ☺ &bogus",
		"1 < 2 and 3 > 2":                              "1 < 2 and 3 > 2",
		"<pre>  keep\n  this</pre>after":               "  keep\r\n  this\r\n\r\nafter",
		"<script>var a = '<p>';</script>shown":         "shown",
		"<STYLE>p{}</STYLE><B>Bold</B>   text":         "Bold text",
		"<a href=\"x>y\">link</a>":                     "link",
		"<!-- <p>hidden</p> -->seen":                   "seen",
		"<table><tr><td>a</td><td>b</td></tr></table>": "a b",
	} {
		if got := string(htmlToText([]byte(in))); got != want {
			t.Errorf("htmlToText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCharsets(t *testing.T) {
	for _, tt := range []struct{ label, in, want string }{
		{"iso-8859-1", "caf\xe9 \x93q\x94", "café “q”"},
		{"", "caf\xc3\xa9", "café"},
		{"", "caf\xe9", "café"},
		{"utf-8", "ok \xc3\xa9, stray \xe9, nul\x00", "ok é, stray é, nul"},
		{"x-bogus", "na\xc3\xafve", "naïve"},
		{"koi8-r", "\xf0\xd2\xc9\xd7\xc5\xd4", "Привет"},
		{"shift_jis", "\x93\xfa\x96\x7b", "日本"},
		{"gb2312", "\xd6\xd0\xce\xc4", "中文"},
	} {
		if got := string(toUTF8(tt.label, []byte(tt.in))); got != tt.want {
			t.Errorf("toUTF8(%q, %q) = %q, want %q", tt.label, tt.in, got, tt.want)
		}
	}
	if got := headerText("=?utf-8?q?a?= =?utf-8?q?b?=\r\n\tc"); got != "ab c" {
		t.Errorf("headerText = %q", got)
	}
}
