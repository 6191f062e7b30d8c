package pdf

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Stamper obtains an RFC 3161 timestamp token over a SHA-256 digest (of
// a signed PDF); nil means none is obtained.
type Stamper interface {
	Stamp(ctx context.Context, digest []byte) ([]byte, error)
}

// SignFunc returns a detached CMS SignedData (DER) over content: the
// signed file's bytes but its /Contents value (the /ByteRange).
type SignFunc func(content []byte) ([]byte, error)

// SignOptions describe the signature.
type SignOptions struct {
	Name     string    // the signer: the organization and node
	Reason   string    // why the document is signed
	Location string    // where (the online session's reference)
	Time     time.Time // the signing time (/M)
	// Reserve is the space kept for the CMS, in bytes (16 KiB when 0):
	// enough for a certificate chain and a timestamp token.
	Reserve int
}

// Bytes writes the document unsigned.
func (d *Document) Bytes() ([]byte, error) {
	b, _, err := d.write(nil)
	return b, err
}

// Sign writes the document with a signature field and signs it: sign gets
// the bytes the /ByteRange covers (everything but the /Contents value) and
// returns the CMS that goes, hex encoded and zero padded, into /Contents.
func (d *Document) Sign(opts SignOptions, sign SignFunc) ([]byte, error) {
	if sign == nil {
		return nil, errors.New("pdf: no signer")
	}
	if opts.Reserve == 0 {
		opts.Reserve = 16 << 10
	}
	b, at, err := d.write(&opts)
	if err != nil {
		return nil, err
	}
	// at is the offset of the "<" of /Contents; the placeholder runs to
	// its ">".
	start := at
	end := start + 2 + 2*opts.Reserve
	if end > len(b) || b[start] != '<' || b[end-1] != '>' {
		return nil, errors.New("pdf: the signature placeholder is not where it was written")
	}
	br := fmt.Sprintf("[0 %d %d %d]", start, end, len(b)-end)
	i := bytes.Index(b, []byte(byteRangePlaceholder))
	if i < 0 || len(br) > len(byteRangePlaceholder) {
		return nil, errors.New("pdf: the byte range placeholder is missing")
	}
	copy(b[i:], br+strings.Repeat(" ", len(byteRangePlaceholder)-len(br)))
	content := make([]byte, 0, len(b)-(end-start))
	content = append(content, b[:start]...)
	content = append(content, b[end:]...)
	cms, err := sign(content)
	if err != nil {
		return nil, fmt.Errorf("pdf: sign: %w", err)
	}
	if len(cms) > opts.Reserve {
		return nil, fmt.Errorf("%w: %d bytes, %d reserved", ErrContentsTooSmall, len(cms), opts.Reserve)
	}
	hex.Encode(b[start+1:], cms)
	return b, nil
}

// byteRangePlaceholder is as wide as any byte range of a file under 10 GB.
const byteRangePlaceholder = "[0 0000000000 0000000000 0000000000]"

// Object numbers of the fixed objects.
const (
	objCatalog = 1 + iota
	objPages
	objHelvetica
	objHelveticaBold
	objSong
	objSongCID
	objSongUnicode
	objSongDescriptor
	objInfo
	objSig
	objSigField
	objFirstPage // then each page and its content
)

// write encodes the document; with opts, it has a signature field whose
// /Contents is a zero placeholder, and sigAt is the placeholder's offset.
func (d *Document) write(opts *SignOptions) (out []byte, sigAt int, err error) {
	if err := validUTF8(d.Title, d.Author, d.Subject, d.Footer); err != nil {
		return nil, 0, err
	}
	for _, b := range d.blocks {
		if err := validUTF8(b.text); err != nil {
			return nil, 0, err
		}
	}
	pages := d.layout()
	objs := map[int]string{}
	var kids []string
	for i := range pages {
		kids = append(kids, fmt.Sprintf("%d 0 R", objFirstPage+2*i))
	}
	fields := ""
	if opts != nil {
		fields = fmt.Sprintf(" /AcroForm << /Fields [%d 0 R] /SigFlags 3 >>", objSigField)
	}
	objs[objCatalog] = fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R%s >>", objPages, fields)
	objs[objPages] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(pages))
	objs[objHelvetica] = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
	objs[objHelveticaBold] = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>"
	objs[objSong] = fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light-UniGB-UTF16-H /Encoding /UniGB-UTF16-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>", objSongCID, objSongUnicode)
	objs[objSongCID] = fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor %d 0 R /DW 1000 /W [1 95 500] >>", objSongDescriptor)
	objs[objSongUnicode] = stream("", toUnicodeUTF16())
	objs[objSongDescriptor] = "<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>"
	created := d.Created
	if created.IsZero() {
		created = time.Now()
	}
	objs[objInfo] = fmt.Sprintf("<< /Title %s /Author %s /Subject %s /Producer (Kuayang) /CreationDate %s >>",
		textString(d.Title), textString(d.Author), textString(d.Subject), pdfDate(created))
	resources := fmt.Sprintf("<< /Font << /F1 %d 0 R /F2 %d 0 R /F3 %d 0 R >> >>", objHelvetica, objHelveticaBold, objSong)
	for i, content := range pages {
		annots := ""
		if i == 0 && opts != nil {
			annots = fmt.Sprintf(" /Annots [%d 0 R]", objSigField)
		}
		objs[objFirstPage+2*i] = fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %.2f %.2f] /Resources %s /Contents %d 0 R%s >>",
			objPages, PageWidth, PageHeight, resources, objFirstPage+2*i+1, annots)
		objs[objFirstPage+2*i+1] = stream("", content)
	}
	if opts != nil {
		objs[objSigField] = fmt.Sprintf("<< /Type /Annot /Subtype /Widget /FT /Sig /T (Signature1) /V %d 0 R /F 132 /Rect [0 0 0 0] /P %d 0 R >>",
			objSig, objFirstPage)
		objs[objSig] = fmt.Sprintf("<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached /ByteRange %s /Contents <%s> /M %s /Name %s /Reason %s /Location %s >>",
			byteRangePlaceholder, strings.Repeat("0", 2*opts.Reserve), pdfDate(opts.Time), textString(opts.Name), textString(opts.Reason), textString(opts.Location))
	} else {
		objs[objSig] = "null"
		objs[objSigField] = "null"
	}
	n := objFirstPage + 2*len(pages)
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	offsets := make([]int, n)
	for i := 1; i < n; i++ {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n", i)
		if i == objSig && opts != nil {
			sigAt = b.Len() + strings.Index(objs[i], "/Contents <") + len("/Contents ")
		}
		b.WriteString(objs[i])
		b.WriteString("\nendobj\n")
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", n)
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "%010d 00000 n \n", offsets[i])
	}
	id := sha256.Sum256(b.Bytes())
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R /ID [<%X> <%X>] >>\nstartxref\n%d\n%%%%EOF\n",
		n, objCatalog, objInfo, id[:16], id[:16], xref)
	return b.Bytes(), sigAt, nil
}

// stream is a stream object with the extra dictionary entries dict.
func stream(dict string, data []byte) string {
	return fmt.Sprintf("<< /Length %d%s >>\nstream\n%s\nendstream", len(data), dict, data)
}

// pdfDate is t as a PDF date string, in UTC.
func pdfDate(t time.Time) string {
	return "(D:" + t.UTC().Format("20060102150405") + "Z)"
}

// toUnicodeUTF16 is a ToUnicode CMap for codes that are UTF-16BE code
// units of the Basic Multilingual Plane (UniGB-UTF16-H's): each maps to
// itself.
func toUnicodeUTF16() []byte {
	var b bytes.Buffer
	b.WriteString("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n" +
		"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n" +
		"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n" +
		"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n")
	var hi []int
	for h := 0; h < 256; h++ {
		if h < 0xd8 || h > 0xdf {
			hi = append(hi, h)
		}
	}
	for len(hi) > 0 {
		k := min(100, len(hi))
		fmt.Fprintf(&b, "%d beginbfrange\n", k)
		for _, h := range hi[:k] {
			fmt.Fprintf(&b, "<%02X00> <%02XFF> <%02X00>\n", h, h, h)
		}
		b.WriteString("endbfrange\n")
		hi = hi[k:]
	}
	b.WriteString("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend")
	return b.Bytes()
}

var (
	byteRangeRE = regexp.MustCompile(`/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`)
	errNoSig    = errors.New("pdf: no signature (/ByteRange) found")
)

// Signed returns, for a signed PDF, the bytes its last signature's
// /ByteRange covers and the CMS in its /Contents (the zero padding
// removed). It checks that the range covers the whole file but the
// /Contents value.
func Signed(b []byte) (content, cms []byte, err error) {
	all := byteRangeRE.FindAllSubmatch(b, -1)
	if len(all) == 0 {
		return nil, nil, errNoSig
	}
	m := all[len(all)-1]
	var r [4]int
	for i := range r {
		if r[i], err = strconv.Atoi(string(m[i+1])); err != nil {
			return nil, nil, fmt.Errorf("pdf: byte range: %w", err)
		}
	}
	if r[0] != 0 || r[1] <= 0 || r[2] <= r[1]+1 || r[2]+r[3] != len(b) || b[r[1]] != '<' || b[r[2]-1] != '>' {
		return nil, nil, fmt.Errorf("pdf: the byte range %v does not cover the file but the signature", r)
	}
	raw := b[r[1]+1 : r[2]-1]
	all2 := make([]byte, hex.DecodedLen(len(raw)))
	if _, err := hex.Decode(all2, raw); err != nil {
		return nil, nil, fmt.Errorf("pdf: signature contents: %w", err)
	}
	n, err := derLen(all2)
	if err != nil {
		return nil, nil, err
	}
	cms = all2[:n]
	content = append(append([]byte{}, b[:r[1]]...), b[r[2]:]...)
	return content, cms, nil
}

// derLen is the length of the DER element at the start of b (the CMS
// before the zero padding).
func derLen(b []byte) (int, error) {
	bad := errors.New("pdf: signature contents are not a DER element")
	if len(b) < 2 || b[0] != 0x30 {
		return 0, bad
	}
	l, h := int(b[1]), 2
	if l&0x80 != 0 {
		k := l & 0x7f
		if k == 0 || k > 3 || len(b) < 2+k {
			return 0, bad
		}
		l = 0
		for _, c := range b[2 : 2+k] {
			l = l<<8 | int(c)
		}
		h += k
	}
	if h+l > len(b) {
		return 0, bad
	}
	return h + l, nil
}
