package scansim

import (
	"image"
	"math/rand/v2"

	"github.com/sipasvn/gateway/paper"
)

// MarkBox marks the box of question's value on img (a form rendered at
// DPI with layout l) as a hand with a pen does, seeded.
func MarkBox(img *image.Gray, l *paper.Layout, question string, value int, m Mark, seed uint64) {
	r := rand.New(rand.NewPCG(seed, uint64(value)))
	drawMark(img, boxOf(l, question, value), m, PenInk(r), r)
}

// Write scribbles a few lines of handwriting in the layout's comment area.
func Write(img *image.Gray, l *paper.Layout, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 7))
	handwriting(l, img, PenInk(r), r)
}

// RenderPDF renders the first page of a PDF with pdftoppm at DPI, in gray.
func RenderPDF(pdftoppm string, pdf []byte) (*image.Gray, error) {
	return renderPDF(pdftoppm, pdf)
}
