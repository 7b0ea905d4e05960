package store

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// Prompt is a recording a province uploaded for a voice channel's calls,
// played instead of the provider's voice saying the prompt's words.
type Prompt struct {
	ID      string    `bson:"_id"` // channel/name
	Channel string    `bson:"channel"`
	Name    string    `bson:"name"`
	Type    string    `bson:"type"` // audio/mpeg or audio/wav
	Data    []byte    `bson:"data"`
	Updated time.Time `bson:"updated_at"`
}

// PromptID is the _id of a channel's prompt.
func PromptID(channel, name string) string { return channel + "/" + name }

// PutPrompt stores a recording, replacing the one of its name, then
// notes its version on the channel (the recording first: a channel that
// names a version always finds it).
func (m *Mongo) PutPrompt(ctx context.Context, p *Prompt) error {
	c := m.DB.Collection("prompts")
	if _, err := c.ReplaceOne(ctx, bson.D{{Key: "_id", Value: p.ID}}, p, options.Replace().SetUpsert(true)); err != nil {
		return fmt.Errorf("save prompt %s: %w", p.ID, err)
	}
	res, err := m.Channels.c.UpdateOne(ctx, bson.D{{Key: "_id", Value: p.Channel}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "prompts." + p.Name, Value: p.Updated.UnixMilli()}}}})
	if err != nil {
		return fmt.Errorf("note prompt %s on its channel: %w", p.ID, err)
	}
	if res.MatchedCount == 0 {
		return ErrNotFound
	}
	return nil
}

// Prompt returns a channel's recording of name.
func (m *Mongo) Prompt(ctx context.Context, channel, name string) (*Prompt, error) {
	return findOne[Prompt](ctx, m.DB.Collection("prompts"), bson.D{{Key: "_id", Value: PromptID(channel, name)}})
}
