"""The planning desk: deconfliction of planned events, demonstrations and zones in space and time
(the conflict watcher and the conflicts' routes), and the exercise calendar."""
