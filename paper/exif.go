package paper

import (
	"bytes"
	"encoding/binary"
)

// tiffData reads the TIFF structure that both TIFF files and JPEG's EXIF
// block use. Every read is bounds-checked against b, so a hostile offset or
// count yields "absent", never a panic or a large allocation.
type tiffData struct {
	b  []byte
	bo binary.ByteOrder
}

// parseTIFFHeader returns the reader and the offset of the first IFD.
func parseTIFFHeader(b []byte) (tiffData, uint32, bool) {
	if len(b) < 8 {
		return tiffData{}, 0, false
	}
	var bo binary.ByteOrder
	switch string(b[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return tiffData{}, 0, false
	}
	return tiffData{b: b, bo: bo}, bo.Uint32(b[4:8]), true
}

// ifdEntry is one 12-byte directory entry.
type ifdEntry struct {
	tag, typ uint16
	count    uint32
	value    [4]byte // the value itself when it fits, else its offset
}

const ifdEntrySize = 12

// ifd returns the entries of the directory at off and the next one's offset.
func (t tiffData) ifd(off uint32) ([]ifdEntry, uint32, bool) {
	o := uint64(off)
	if o+2 > uint64(len(t.b)) {
		return nil, 0, false
	}
	n := uint64(t.bo.Uint16(t.b[o:]))
	end := o + 2 + n*ifdEntrySize
	if end > uint64(len(t.b)) {
		return nil, 0, false
	}
	entries := make([]ifdEntry, n)
	for i := range entries {
		p := t.b[o+2+uint64(i)*ifdEntrySize:]
		e := &entries[i]
		e.tag = t.bo.Uint16(p[0:])
		e.typ = t.bo.Uint16(p[2:])
		e.count = t.bo.Uint32(p[4:])
		copy(e.value[:], p[8:12])
	}
	var next uint32
	if end+4 <= uint64(len(t.b)) {
		next = t.bo.Uint32(t.b[end:])
	}
	return entries, next, true
}

const (
	tiffShort = 3
	tiffLong  = 4
)

// ints reads a SHORT or LONG array value; nil when it is of another type or
// points outside the file. Its length is bounded by the file's size.
func (t tiffData) ints(e ifdEntry) []uint32 {
	size := uint64(2)
	switch e.typ {
	case tiffShort:
	case tiffLong:
		size = 4
	default:
		return nil
	}
	n := uint64(e.count)
	data := e.value[:]
	if n*size > 4 {
		off := uint64(t.bo.Uint32(e.value[:]))
		if off+n*size > uint64(len(t.b)) {
			return nil
		}
		data = t.b[off : off+n*size]
	}
	out := make([]uint32, n)
	for i := range out {
		if size == 2 {
			out[i] = uint32(t.bo.Uint16(data[2*i:]))
		} else {
			out[i] = t.bo.Uint32(data[4*i:])
		}
	}
	return out
}

// first is an entry's first value, or def when it is absent or unreadable.
func (t tiffData) first(entries []ifdEntry, tag uint16, def uint32) uint32 {
	for _, e := range entries {
		if e.tag != tag || e.count == 0 {
			continue
		}
		size := uint64(2)
		switch e.typ {
		case tiffShort:
		case tiffLong:
			size = 4
		default:
			return def
		}
		data := e.value[:]
		if uint64(e.count)*size > 4 {
			off := uint64(t.bo.Uint32(e.value[:]))
			if off+size > uint64(len(t.b)) {
				return def
			}
			data = t.b[off : off+size]
		}
		if size == 2 {
			return uint32(t.bo.Uint16(data))
		}
		return t.bo.Uint32(data)
	}
	return def
}

func findEntry(entries []ifdEntry, tag uint16) (ifdEntry, bool) {
	for _, e := range entries {
		if e.tag == tag {
			return e, true
		}
	}
	return ifdEntry{}, false
}

const tagOrientation = 0x0112

// validOrientation keeps 1–8 and reads anything else as upright, as viewers do.
func validOrientation(o uint32) int {
	if o >= 1 && o <= 8 {
		return int(o)
	}
	return 1
}

// exifOrientation reads Orientation from IFD0 of an EXIF block (the TIFF
// structure after "Exif\0\0").
func exifOrientation(b []byte) int {
	t, off, ok := parseTIFFHeader(b)
	if !ok {
		return 1
	}
	entries, _, ok := t.ifd(off)
	if !ok {
		return 1
	}
	return validOrientation(t.first(entries, tagOrientation, 1))
}

// jpegOrientation finds the EXIF Orientation of a JPEG file by walking its
// marker segments up to the start of the image data. Absent or unreadable
// means upright, as viewers treat it.
func jpegOrientation(b []byte) int {
	if len(b) < 4 || b[0] != 0xff || b[1] != 0xd8 {
		return 1
	}
	for i := 2; i+4 <= len(b); {
		if b[i] != 0xff {
			return 1
		}
		marker := b[i+1]
		switch {
		case marker == 0xff: // fill byte
			i++
			continue
		case marker == 0x01 || marker == 0xd8 || marker >= 0xd0 && marker <= 0xd7:
			i += 2
			continue
		case marker == 0xda || marker == 0xd9: // image data: EXIF comes before it
			return 1
		}
		n := int(binary.BigEndian.Uint16(b[i+2:]))
		if n < 2 || i+2+n > len(b) {
			return 1
		}
		seg := b[i+4 : i+2+n]
		if marker == 0xe1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return exifOrientation(seg[6:])
		}
		i += 2 + n
	}
	return 1
}
