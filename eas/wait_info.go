package eas

// Info describes the wait for observers (WaitObserver). Everything it
// reads is set before the wait starts and not changed while it lasts; not
// the call, which a detached request no longer holds.
func (w *pingWait) Info() WaitInfo {
	return WaitInfo{Kind: w.kind, Login: w.login, DeviceID: w.deviceID, DeviceType: w.deviceType,
		Heartbeat: w.heartbeat, Folders: len(w.watched)}
}
