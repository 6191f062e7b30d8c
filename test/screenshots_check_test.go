package test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"testing"
)

// The viewport of every screenshot (screenshots_browser_test.go, built
// with the tag screenshots): a common laptop's, at scale 1.
const shotWidth, shotHeight = 1280, 800

// checkScreenshot fails a PNG that does not decode, is not of the
// viewport's size, or has so few colours that the page must be blank.
func checkScreenshot(data []byte) error {
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("not a PNG: %w", err)
	}
	if b := img.Bounds(); b.Dx() != shotWidth || b.Dy() != shotHeight {
		return fmt.Errorf("%dx%d, want %dx%d", b.Dx(), b.Dy(), shotWidth, shotHeight)
	}
	const enough = 64
	colors := map[[3]uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y && len(colors) < enough; y++ {
		for x := b.Min.X; x < b.Max.X && len(colors) < enough; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			colors[[3]uint32{r, g, bl}] = true
		}
	}
	if len(colors) < enough {
		return fmt.Errorf("only %d colours: a blank page", len(colors))
	}
	return nil
}

// TestCheckScreenshot: the check of the screenshots refuses what is not a
// PNG, one of another size and a blank one, and takes a page.
func TestCheckScreenshot(t *testing.T) {
	encode := func(img image.Image) []byte {
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	busy := func(w, h int) *image.RGBA {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x ^ y), 255})
			}
		}
		return img
	}
	blank := image.NewRGBA(image.Rect(0, 0, shotWidth, shotHeight))
	draw.Draw(blank, blank.Bounds(), image.NewUniform(color.RGBA{15, 23, 32, 255}), image.Point{}, draw.Src)
	for _, c := range []struct {
		name string
		data []byte
		ok   bool
	}{
		{"a page", encode(busy(shotWidth, shotHeight)), true},
		{"not a PNG", []byte("<html>"), false},
		{"another size", encode(busy(1024, 768)), false},
		{"blank", encode(blank), false},
	} {
		if err := checkScreenshot(c.data); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
