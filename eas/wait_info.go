package eas

// Info describes the wait for observers (WaitObserver). Everything it
// reads is set before the wait starts and not changed while it lasts.
func (w *pingWait) Info() WaitInfo {
	d := w.k.dev
	return WaitInfo{Kind: w.kind, Login: d.Login, DeviceID: d.DeviceID, DeviceType: d.DeviceType,
		Heartbeat: w.heartbeat, Folders: len(w.watched)}
}
