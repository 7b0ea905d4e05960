package store

import (
	"slices"
	"sync"
)

// PageBatches records, in a month's index document, the last batch each of
// its pages took (written after the pages), so a reader knows which pages
// it holds already without reading them. Roll-up and comment indexes share
// it; it is stored inline, as the fields pages and batches.
type PageBatches struct {
	Pages   []string `bson:"pages"`
	Batches []int64  `bson:"batches"`
}

// batchOf returns the batch recorded for the page id (0: none).
func (pb *PageBatches) batchOf(id string) int64 {
	if i := slices.Index(pb.Pages, id); i >= 0 && i < len(pb.Batches) {
		return pb.Batches[i]
	}
	return 0
}

// setBatch records b for the page id; it returns the page's position and
// whether anything changed.
func (pb *PageBatches) setBatch(id string, b int64) (int, bool) {
	if i := slices.Index(pb.Pages, id); i >= 0 && i < len(pb.Batches) {
		changed := pb.Batches[i] != b
		pb.Batches[i] = b
		return i, changed
	}
	pb.Pages, pb.Batches = append(pb.Pages, id), append(pb.Batches, b)
	return len(pb.Pages) - 1, true
}

// batchCache keeps decoded pages in the process, each under the batch it
// was read at: a page its month index still records at that batch has not
// changed, so a reader reads the index and only the pages written since.
// Bounded by weight (weigh; max): past the bound it starts again empty.
type batchCache[T any] struct {
	max   int
	weigh func([]T) int

	mu     sync.Mutex
	pages  map[string]cachedPage[T]
	weight int
}

type cachedPage[T any] struct {
	batch int64
	items []T
}

func (c *batchCache[T]) get(id string, batch int64) ([]T, bool) {
	if batch == 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.pages[id]
	return p.items, ok && p.batch == batch
}

func (c *batchCache[T]) put(id string, batch int64, items []T) {
	w := c.weigh(items)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pages == nil || c.weight+w > c.max {
		c.pages, c.weight = map[string]cachedPage[T]{}, 0
	}
	if old, ok := c.pages[id]; ok {
		c.weight -= c.weigh(old.items)
	}
	c.pages[id] = cachedPage[T]{batch: batch, items: items}
	c.weight += w
}
