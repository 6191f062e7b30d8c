package identity

import (
	"bytes"
	"image"
	_ "image/jpeg" // DecodeConfig of JPEG
	_ "image/png"  // and PNG
)

// Limits of an uploaded image.
const (
	MaxImageBytes = 2 << 20 // 2 MB
	MinImageSide  = 64
	MaxImageSide  = 8192
)

// Stable codes of a refused image.
const (
	CodeImageTooLarge = "image_too_large" // more than MaxImageBytes
	CodeNotAnImage    = "not_an_image"    // neither JPEG nor PNG by content
	CodeImageSize     = "image_dimensions"
)

// ImageError is a refused image with a stable code.
type ImageError struct {
	Code   string
	Detail string
}

func (e *ImageError) Error() string { return "identity: " + e.Code + ": " + e.Detail }

// Image is an accepted image.
type Image struct {
	ContentType   string // image/jpeg or image/png, from the content
	Width, Height int
}

var (
	jpegMagic = []byte{0xFF, 0xD8, 0xFF}
	pngMagic  = []byte("\x89PNG\r\n\x1a\n")
)

// Sniff checks an uploaded image by its content, whatever the request's
// Content-Type said: JPEG or PNG, decodable header, sides between
// MinImageSide and MaxImageSide pixels.
func Sniff(b []byte) (Image, error) {
	if len(b) > MaxImageBytes {
		return Image{}, &ImageError{CodeImageTooLarge, "an image may be at most 2 MB"}
	}
	var ct string
	switch {
	case bytes.HasPrefix(b, jpegMagic):
		ct = "image/jpeg"
	case bytes.HasPrefix(b, pngMagic):
		ct = "image/png"
	default:
		return Image{}, &ImageError{CodeNotAnImage, "the content is neither JPEG nor PNG"}
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return Image{}, &ImageError{CodeNotAnImage, "the image cannot be read: " + err.Error()}
	}
	if cfg.Width < MinImageSide || cfg.Height < MinImageSide || cfg.Width > MaxImageSide || cfg.Height > MaxImageSide {
		return Image{}, &ImageError{CodeImageSize, "each side must be 64 to 8192 pixels"}
	}
	return Image{ContentType: ct, Width: cfg.Width, Height: cfg.Height}, nil
}
