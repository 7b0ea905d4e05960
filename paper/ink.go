package paper

import "image"

// HasInk says whether an area (a comment's, straightened) holds writing:
// more than 0.3% of its pixels well darker than its paper, away from its
// edges, where the printed frame may show. A speck of dust or JPEG noise
// stays under that; three handwritten words are well over it.
func HasInk(img *image.Gray) bool {
	b := img.Bounds()
	inset := max(b.Dx(), b.Dy()) / 40
	in := image.Rect(b.Min.X+inset, b.Min.Y+inset, b.Max.X-inset, b.Max.Y-inset)
	if in.Empty() {
		return false
	}
	var hist [256]int
	for y := in.Min.Y; y < in.Max.Y; y++ {
		row := img.Pix[img.PixOffset(in.Min.X, y):img.PixOffset(in.Max.X, y)]
		for _, v := range row {
			hist[v]++
		}
	}
	total := in.Dx() * in.Dy()
	// the paper: the level below which 60% of the area lies (the area is
	// mostly blank, even when written on)
	paper, seen := 0, 0
	for v := range hist {
		seen += hist[v]
		if seen*10 >= total*6 {
			paper = v
			break
		}
	}
	dark, limit := 0, paper*6/10
	for v := 0; v < limit; v++ {
		dark += hist[v]
	}
	return dark*1000 > total*3
}
