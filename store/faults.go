package store

import "context"

// Fault decides, at one write of the roll-up writer, whether it fails:
// called with after false just before the write (an error stops it from
// being made) and with after true once it is made (an error is returned
// as if the store had answered with it, though the write stands: a
// timeout after the commit). point names the write.
type Fault func(ctx context.Context, point string, after bool) error

type faultKey struct{}

// WithFault returns ctx carrying f, which every write made through Write
// with that context consults: the crash-point tests enumerate the roll-up
// writer's writes with it, and cut each in turn.
func WithFault(ctx context.Context, f Fault) context.Context {
	return context.WithValue(ctx, faultKey{}, f)
}

// Write runs one write named point, through ctx's Fault if it has one.
func Write(ctx context.Context, point string, write func(context.Context) error) error {
	f, _ := ctx.Value(faultKey{}).(Fault)
	if f != nil {
		if err := f(ctx, point, false); err != nil {
			return err
		}
	}
	if err := write(ctx); err != nil {
		return err
	}
	if f != nil {
		return f(ctx, point, true)
	}
	return nil
}
