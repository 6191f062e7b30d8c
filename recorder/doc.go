// Package recorder records sessions as evidence. A Recorder is an
// sfu.Observer: it receives every track of a room through the SFU's
// bounded queues, rebuilds frames from RTP (pion's samplebuilder), places
// them on one wall clock (RTP time anchored at the publisher's RTCP sender
// reports) and writes one file per participant per segment with that
// participant's audio and video: WebM for Opus with VP8 or VP9, Matroska
// for H.264.
//
// A segment starts on a video keyframe, rolls every SegmentDuration at the
// next keyframe and whenever the picture size changes, and carries Cues so
// it can be seeked. It is written to the spool as
// <spool>/<session>/<participant>/<index>.webm.part, handed to the OS at
// least every half second, and sealed on close: synced, hashed (SHA-256 of
// the file as it lies on disk, read back after the muxer's final patches),
// renamed to .webm and described by a JSON sidecar <index>.json (a
// Segment). Missing media is never silent: packet loss, queue overflow and
// waits for a keyframe are recorded as Gaps. When the participant spoke is
// recorded as the segment's Speaking intervals, from the audio level the
// sender measured for each packet (sfu.AudioLevelSink; see speaking.go).
// A participant in a recorded private room is recorded in segments of
// their own, marked with the room (Seal; Segment.Room); one in a private
// room that is not recorded is not recorded at all (Pause).
// After a crash, Recover closes what the spool holds.
//
// Uploading, manifests and signatures are the caller's: OnSegment reports
// each sealed segment, and the uploader removes spool files once stored.
package recorder
