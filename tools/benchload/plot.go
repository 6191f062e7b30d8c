package main

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"strconv"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// series is one line of a plot.
type series struct {
	name   string
	x, y   []float64
	labels []string // by point; empty for none
}

func (s *series) add(x, y float64, label string) {
	s.x, s.y, s.labels = append(s.x, x), append(s.y, y), append(s.labels, label)
}

var (
	white  = color.RGBA{255, 255, 255, 255}
	black  = color.RGBA{0, 0, 0, 255}
	grey   = color.RGBA{220, 220, 220, 255}
	colors = []color.RGBA{{200, 40, 40, 255}, {40, 90, 200, 255}, {40, 150, 60, 255}}
)

const (
	plotW, plotH = 720, 420
	left, right  = 70, 20
	top, bottom  = 40, 50
)

// drawPlot draws the series as markers on linear axes starting
// at zero, with tick labels, a title, axis names and a legend, and writes
// a PNG to path.
func drawPlot(path, title, xName, yName string, ss []series) error {
	img := image.NewRGBA(image.Rect(0, 0, plotW, plotH))
	draw.Draw(img, img.Bounds(), &image.Uniform{white}, image.Point{}, draw.Src)
	var xMax, yMax float64
	for _, s := range ss {
		for i := range s.x {
			xMax, yMax = math.Max(xMax, s.x[i]), math.Max(yMax, s.y[i])
		}
	}
	xStep, xTop := ticks(xMax)
	yStep, yTop := ticks(yMax)
	x0, y0, x1, y1 := left, plotH-bottom, plotW-right, top
	px := func(x float64) int { return x0 + int(math.Round(x/xTop*float64(x1-x0))) }
	py := func(y float64) int { return y0 - int(math.Round(y/yTop*float64(y0-y1))) }

	for v := 0.0; v <= yTop+yStep/2; v += yStep {
		y := py(v)
		line(img, x0, y, x1, y, grey, 1)
		line(img, x0-5, y, x0, y, black, 1)
		s := num(v, yStep)
		text(img, x0-8-7*len(s), y+4, s, black)
	}
	for v := 0.0; v <= xTop+xStep/2; v += xStep {
		x := px(v)
		line(img, x, y0, x, y0+5, black, 1)
		s := num(v, xStep)
		text(img, x-7*len(s)/2, y0+18, s, black)
	}
	line(img, x0, y0, x1, y0, black, 1)
	line(img, x0, y0, x0, y1, black, 1)
	text(img, (plotW-7*len(title))/2, 22, title, black)
	text(img, (x0+x1-7*len(xName))/2, plotH-12, xName, black)
	text(img, 6, y1-10, yName, black)

	for k, s := range ss {
		c := colors[k%len(colors)]
		// Points only: the scenarios differ in shape (rooms, room size,
		// recording), so a line between them would suggest a trend.
		for i := range s.x {
			square(img, px(s.x[i]), py(s.y[i]), 3, c)
			if s.labels[i] != "" {
				text(img, px(s.x[i])+6, py(s.y[i])-6, s.labels[i], c)
			}
		}
		// Legend, top right.
		ly := y1 + 14 + 16*k
		lx := x1 - 190
		square(img, lx+10, ly-4, 3, c)
		text(img, lx+26, ly, s.name, black)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ticks returns a round step giving about 5 ticks up to at least max, and
// the top of the axis.
func ticks(max float64) (step, top float64) {
	if max <= 0 {
		return 1, 5
	}
	raw := max / 5
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if step = m * mag; step >= raw {
			break
		}
	}
	return step, math.Ceil(max/step) * step
}

// num formats a tick value with the decimals its step needs.
func num(v, step float64) string {
	d := 0
	if step < 1 {
		d = int(math.Ceil(-math.Log10(step))) + 1
	}
	return strconv.FormatFloat(v, 'f', d, 64)
}

func text(img draw.Image, x, y int, s string, c color.Color) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

// line draws a line of width w (1 or more pixels) with Bresenham's
// algorithm.
func line(img draw.Image, xa, ya, xb, yb int, c color.Color, w int) {
	dx, dy := abs(xb-xa), -abs(yb-ya)
	sx, sy := sign(xb-xa), sign(yb-ya)
	e := dx + dy
	for {
		for i := range w {
			for j := range w {
				img.Set(xa+i-w/2, ya+j-w/2, c)
			}
		}
		if xa == xb && ya == yb {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			xa += sx
		}
		if e2 <= dx {
			e += dx
			ya += sy
		}
	}
}

func square(img draw.Image, x, y, r int, c color.Color) {
	draw.Draw(img, image.Rect(x-r, y-r, x+r+1, y+r+1), image.NewUniform(c), image.Point{}, draw.Src)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func sign(v int) int {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}
