package core

import (
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/hex"
	"mime"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/sipasvn/gateway/store"
)

// PromptMaxBytes bounds a prompt's recording.
const PromptMaxBytes = 2 << 20

// promptURLLife is how long a prompt's signed URL works: a provider
// fetches it while the call goes on.
const promptURLLife = time.Hour

var questionPrompt = regexp.MustCompile(`^question_[a-z0-9]{1,8}$`)

// PutPrompt stores a recording a voice channel's calls play instead of
// the provider's voice saying prompt name: MP3 or WAV, as its first bytes
// show and contentType says, at most PromptMaxBytes.
func (s *Service) PutPrompt(ctx context.Context, p *Principal, channel, name, contentType string, audio []byte) (*store.Prompt, error) {
	ch, err := s.Mongo.Channels.Channel(ctx, channel)
	if err != nil {
		return nil, notFoundAs(err, "channel %s does not exist", channel)
	}
	if Family(ch.Type) != "voice" {
		return nil, Errorf(Invalid, "id", "channel %s is %s; prompts are for voice channels", channel, ch.Type)
	}
	fixed := []string{PromptGreeting, PromptScale, PromptRepeat, PromptResume, PromptThanks, PromptClosed, PromptNoSurvey}
	if !slices.Contains(fixed, name) && !questionPrompt.MatchString(name) {
		return nil, Errorf(Invalid, "name", "%q is no prompt; use one of %v or question_<question id in lower case> (question_a … question_e)", name, fixed)
	}
	typ, err := audioType(contentType, audio)
	if err != nil {
		return nil, err
	}
	pr := &store.Prompt{ID: store.PromptID(channel, name), Channel: channel, Name: name, Type: typ, Data: audio, Updated: store.Millis(s.now())}
	if err := s.Mongo.PutPrompt(ctx, pr); err != nil {
		return nil, notFoundAs(err, "channel %s does not exist", channel)
	}
	if err := s.channelsChanged(ctx); err != nil {
		return nil, err
	}
	return pr, s.Audit(ctx, p, "channel.prompt", channel+"/"+name, map[string]any{"type": typ, "bytes": len(audio)})
}

// audioType is a recording's type: what contentType says, if the bytes
// agree.
func audioType(contentType string, b []byte) (string, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	var want string
	switch mt {
	case "audio/mpeg", "audio/mp3":
		want = "audio/mpeg"
	case "audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave":
		want = "audio/wav"
	default:
		return "", Errorf(Invalid, "Content-Type", "%q: send the recording as audio/mpeg (MP3) or audio/wav", contentType)
	}
	switch {
	case len(b) == 0:
		return "", Errorf(Invalid, "body", "the recording is empty")
	case len(b) > PromptMaxBytes:
		return "", Errorf(TooLarge, "body", "the recording has %d bytes; at most %d (2 MB): shorten it or lower its bit rate", len(b), PromptMaxBytes)
	case want == "audio/wav" && !(len(b) >= 12 && bytes.Equal(b[:4], []byte("RIFF")) && bytes.Equal(b[8:12], []byte("WAVE"))):
		return "", Errorf(Invalid, "body", "not a WAV file (it does not begin with RIFF…WAVE); export the recording as WAV or MP3")
	case want == "audio/mpeg" && !(bytes.HasPrefix(b, []byte("ID3")) || len(b) >= 2 && b[0] == 0xFF && b[1]&0xE0 == 0xE0):
		return "", Errorf(Invalid, "body", "not an MP3 file (no ID3 tag or MPEG frame at its start); export the recording as MP3 or WAV")
	}
	return want, nil
}

// PromptURL is the signed URL a provider fetches channel ch's recording
// of prompt name from, or "" when none was uploaded (the provider's
// voice says it).
func (s *Service) PromptURL(ch *Channel, name string) string {
	v, ok := ch.Prompts[name]
	if !ok {
		return ""
	}
	ver, exp := strconv.FormatInt(v, 10), strconv.FormatInt(s.now().Add(promptURLLife).Unix(), 10)
	q := url.Values{"v": {ver}, "exp": {exp}, "sig": {s.promptSig(ch.ID, name, ver, exp)}}
	return s.BaseURL + "/voice/prompts/" + url.PathEscape(ch.ID) + "/" + url.PathEscape(name) + "?" + q.Encode()
}

func (s *Service) promptSig(channel, name, ver, exp string) string {
	return hex.EncodeToString(s.Sealer.Tag("prompt", channel+"\x00"+name+"\x00"+ver+"\x00"+exp)[:16])
}

// PromptAudio is the recording a signed prompt URL names; unauthenticated
// when the signature is wrong or has expired.
func (s *Service) PromptAudio(ctx context.Context, channel, name, ver, exp, sig string) (*store.Prompt, error) {
	if !hmac.Equal([]byte(sig), []byte(s.promptSig(channel, name, ver, exp))) {
		return nil, Errorf(Unauthenticated, "sig", "not a prompt URL the gateway signed")
	}
	if n, err := strconv.ParseInt(exp, 10, 64); err != nil || s.now().Unix() > n {
		return nil, Errorf(Unauthenticated, "exp", "the prompt URL has expired")
	}
	p, err := s.Mongo.Prompt(ctx, channel, name)
	if err != nil {
		return nil, notFoundAs(err, "no prompt %s of channel %s", name, channel)
	}
	return p, nil
}
