package store

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/redis/go-redis/v9"
	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Scan statuses: what became of one page of paper forms.
const (
	ScanRecorded   = "recorded"   // its answers landed as a response
	ScanReview     = "review"     // waiting for an operator: an unsure mark, a comment to type
	ScanDuplicate  = "duplicate"  // the dossier was already answered: kept, not counted
	ScanUnreadable = "unreadable" // no form found, or its code unreadable
	ScanDiscarded  = "discarded"  // an operator set it aside from review
)

// Scan is one page of an uploaded stack of paper forms: what the reader
// made of it, the page kept as a small image for an operator, and what
// became of it.
type Scan struct {
	ID            string         `bson:"_id" json:"id"`
	Status        string         `bson:"status" json:"status" doc:"recorded, review, duplicate, unreadable or discarded"`
	Reason        string         `bson:"reason,omitempty" json:"reason,omitempty"`
	InvitationID  string         `bson:"invitation_id,omitempty" json:"invitation_id,omitempty"`
	Agency        string         `bson:"agency,omitempty" json:"agency_code,omitempty"`
	Dossier       string         `bson:"dossier,omitempty" json:"dossier_code,omitempty"`
	Survey        string         `bson:"survey,omitempty" json:"survey,omitempty"`
	LayoutVersion int            `bson:"layout_version,omitempty" json:"layout_version,omitempty"`
	Answers       map[string]int `bson:"answers,omitempty" json:"answers,omitempty" doc:"the reader's proposal (review) or what was recorded: question → 1–5, 0 no opinion"`
	// Unsure are the questions the reader could not decide, with why.
	Unsure     []ScanQuestion `bson:"unsure,omitempty" json:"unsure,omitempty"`
	Comment    bool           `bson:"comment,omitempty" json:"handwritten_comment" doc:"the comment area has handwriting for an operator to type"`
	ResponseID string         `bson:"response_id,omitempty" json:"response_id,omitempty"`
	CaseID     string         `bson:"case_id,omitempty" json:"case_id,omitempty" doc:"a suggestion-box slip: the feedback case it opened"`
	File       string         `bson:"file" json:"file"`
	Page       int            `bson:"page" json:"page" doc:"1-based within the file"`
	UploadedBy string         `bson:"uploaded_by" json:"uploaded_by"`
	UploadedAt time.Time      `bson:"uploaded_at" json:"uploaded_at"`
	ResolvedBy string         `bson:"resolved_by,omitempty" json:"resolved_by,omitempty"`
	ResolvedAt *time.Time     `bson:"resolved_at,omitempty" json:"resolved_at,omitempty"`
	// Image is the page as JPEG, gray, straightened to the form's layout
	// where it was read (about 100 dpi, 100–200 KB), else downscaled as
	// it came; CommentImage is the comment's area. The retention sweep
	// drops both.
	Image        []byte `bson:"image,omitempty" json:"-"`
	CommentImage []byte `bson:"comment_image,omitempty" json:"-"`
	// Straight says Image is in the layout's geometry: boxes can be
	// outlined on it at the layout's millimetres.
	Straight bool `bson:"straight,omitempty" json:"straightened"`
	// ImageURL and CommentImageURL are where the API serves the images.
	ImageURL        string `bson:"-" json:"image_url,omitempty"`
	CommentImageURL string `bson:"-" json:"comment_image_url,omitempty"`
}

// ScanQuestion is one question the reader could not decide.
type ScanQuestion struct {
	Question string `bson:"q" json:"question"`
	Status   string `bson:"s" json:"status" doc:"multiple, corrected, faint or uncertain"`
	Marked   []int  `bson:"m,omitempty" json:"marked" doc:"the values that look marked"`
}

// Scans keeps scanned pages, read by _id only; the review queue is listed
// from Redis (ScanQueue).
type Scans struct{ c *mongo.Collection }

// Insert saves a new page.
func (s *Scans) Insert(ctx context.Context, sc *Scan) error {
	if _, err := s.c.InsertOne(ctx, sc); err != nil {
		return fmt.Errorf("save scan: %w", err)
	}
	return nil
}

// Get is one page, image included.
func (s *Scans) Get(ctx context.Context, id string) (*Scan, error) {
	var sc Scan
	err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&sc)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read scan: %w", err)
	}
	return &sc, nil
}

// ByIDs are pages without their images, for a list.
func (s *Scans) ByIDs(ctx context.Context, ids []string) ([]Scan, error) {
	return byIDs[Scan](ctx, s.c, ids, options.FindOne().SetProjection(noImages))
}

var noImages = bson.D{{Key: "image", Value: 0}, {Key: "comment_image", Value: 0}}

func (s *Scans) ensureIndexes(ctx context.Context) error {
	return createIndexes(ctx, s.c, index(bson.D{{Key: "uploaded_at", Value: 1}}, false))
}

// Settle moves a page out of review, once: false when it had left review
// already (another operator's resolve).
func (s *Scans) Settle(ctx context.Context, id string, set bson.D) (bool, error) {
	res, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "status", Value: ScanReview}}, bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return false, fmt.Errorf("settle scan: %w", err)
	}
	return res.ModifiedCount == 1, nil
}

// DropImagesBefore removes the page images of pages uploaded before t
// (the retention sweep); the records stay.
func (s *Scans) DropImagesBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.c.UpdateMany(ctx,
		bson.D{{Key: "uploaded_at", Value: bson.D{{Key: "$lt", Value: t}}}, {Key: "image", Value: bson.D{{Key: "$exists", Value: true}}}},
		bson.D{{Key: "$unset", Value: bson.D{{Key: "image", Value: ""}, {Key: "comment_image", Value: ""}}}})
	if err != nil {
		return 0, fmt.Errorf("drop scan images: %w", err)
	}
	return res.ModifiedCount, nil
}

// EachInReview streams the pages waiting for review, without images (a
// rebuild of the queue's index).
func (s *Scans) EachInReview(ctx context.Context, fn func(*Scan) error) error {
	return each(ctx, s.c, bson.D{{Key: "status", Value: ScanReview}},
		options.Find().SetBatchSize(500).SetProjection(noImages), fn)
}

// ScanQueue indexes the pages waiting for review per agency in Redis, the
// oldest first, so the queue is listed without a query MongoDB cannot
// serve by _id.
type ScanQueue struct {
	R      redis.UniversalClient
	Prefix string
}

// NewScanQueue returns the deployment's review queue index.
func NewScanQueue(r redis.UniversalClient, name string) *ScanQueue {
	return &ScanQueue{R: r, Prefix: "gw:scans:" + name + ":"}
}

func (q *ScanQueue) key(agency string) string { return q.Prefix + "{" + agency + "}" }

// Add puts a page in its agency's queue.
func (q *ScanQueue) Add(ctx context.Context, sc *Scan) error {
	_, err := q.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, q.key(sc.Agency), redis.Z{Score: float64(sc.UploadedAt.UnixMilli()), Member: sc.ID})
		p.SAdd(ctx, q.Prefix+"#agencies", sc.Agency)
		return nil
	})
	return err
}

// Remove takes a page out of the queue.
func (q *ScanQueue) Remove(ctx context.Context, agency, id string) error {
	return q.R.ZRem(ctx, q.key(agency), id).Err()
}

// List is the queue of agencies (nil: every agency), oldest first.
func (q *ScanQueue) List(ctx context.Context, agencies []string) ([]string, error) {
	if agencies == nil {
		all, err := q.R.SMembers(ctx, q.Prefix+"#agencies").Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, err
		}
		agencies = all
	}
	cmds := make([]*redis.ZSliceCmd, len(agencies))
	_, err := q.R.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, a := range agencies {
			cmds[i] = p.ZRangeWithScores(ctx, q.key(a), 0, -1)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	var all []redis.Z
	for _, c := range cmds {
		all = append(all, c.Val()...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Score < all[j].Score })
	out := make([]string, len(all))
	for i, z := range all {
		out[i] = z.Member.(string)
	}
	return out, nil
}

// Filled says the index was filled since Redis last lost it.
func (q *ScanQueue) Filled(ctx context.Context) (bool, error) {
	n, err := q.R.Exists(ctx, q.Prefix+"#filled").Result()
	return n > 0, err
}

// Fill indexes every page in review again and marks the index whole.
func (q *ScanQueue) Fill(ctx context.Context, s *Scans) error {
	if err := s.EachInReview(ctx, func(sc *Scan) error { return q.Add(ctx, sc) }); err != nil {
		return err
	}
	return q.R.Set(ctx, q.Prefix+"#filled", "1", 0).Err()
}

// Slips maps the id a suggestion-box slip's QR carries to its office:
// written when slips are printed, read by _id when one comes back.
type Slips struct{ c *mongo.Collection }

type slip struct {
	ID     string `bson:"_id"`
	Agency string `bson:"agency"`
}

// Keep records that id names agency (again on every print: an upsert).
func (s *Slips) Keep(ctx context.Context, id, agency string) error {
	_, err := s.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: bson.D{{Key: "agency", Value: agency}}}},
		options.Update().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("keep slip id: %w", err)
	}
	return nil
}

// Agency is the office of a slip id.
func (s *Slips) Agency(ctx context.Context, id string) (string, error) {
	var sl slip
	err := s.c.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&sl)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("read slip id: %w", err)
	}
	return sl.Agency, nil
}
