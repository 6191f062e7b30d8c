package sfu

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// slogFactory hands pion's internal loggers out as slog loggers. Pion is
// chatty about normal events (trickle ICE, closing connections), so its
// levels are demoted: trace is dropped, info and warn become debug, error
// becomes warn.
type slogFactory struct {
	log *slog.Logger
}

// NewLogger implements logging.LoggerFactory.
func (f slogFactory) NewLogger(scope string) logging.LeveledLogger {
	return &slogLogger{log: f.log.With("pion", scope)}
}

// slogLogger implements logging.LeveledLogger on top of slog.
type slogLogger struct {
	log *slog.Logger
}

func (l *slogLogger) emit(level slog.Level, msg string) {
	ctx := context.Background()
	if l.log.Enabled(ctx, level) {
		l.log.Log(ctx, level, msg)
	}
}

func (l *slogLogger) emitf(level slog.Level, format string, args []any) {
	ctx := context.Background()
	if l.log.Enabled(ctx, level) {
		l.log.Log(ctx, level, fmt.Sprintf(format, args...))
	}
}

func (l *slogLogger) Trace(string)          {}
func (l *slogLogger) Tracef(string, ...any) {}

func (l *slogLogger) Debug(msg string) { l.emit(slog.LevelDebug, msg) }
func (l *slogLogger) Debugf(format string, args ...any) {
	l.emitf(slog.LevelDebug, format, args)
}

func (l *slogLogger) Info(msg string) { l.emit(slog.LevelDebug, msg) }
func (l *slogLogger) Infof(format string, args ...any) {
	l.emitf(slog.LevelDebug, format, args)
}

func (l *slogLogger) Warn(msg string) { l.emit(slog.LevelDebug, msg) }
func (l *slogLogger) Warnf(format string, args ...any) {
	l.emitf(slog.LevelDebug, format, args)
}

func (l *slogLogger) Error(msg string) { l.emit(slog.LevelWarn, msg) }
func (l *slogLogger) Errorf(format string, args ...any) {
	l.emitf(slog.LevelWarn, format, args)
}
