package mailconv

import "strings"

// Message classes (MS-ASEMAIL 2.2.2.49) easd gives mail.
const (
	classNote          = "IPM.Note"
	classSMIME         = "IPM.Note.SMIME"
	classSMIMESigned   = "IPM.Note.SMIME.MultipartSigned"
	classMeetingReq    = "IPM.Schedule.Meeting.Request"
	classMeetingCancel = "IPM.Schedule.Meeting.Canceled"
	classMeetingResp   = "IPM.Schedule.Meeting.Resp.Pos"
	classMeetingTent   = "IPM.Schedule.Meeting.Resp.Tent"
	classMeetingNeg    = "IPM.Schedule.Meeting.Resp.Neg"
	classNDR           = "REPORT.IPM.Note.NDR"
	classReadReceipt   = "REPORT.IPM.Note.IPNRN"

	contentClassMessage  = "urn:content-classes:message"
	contentClassCalendar = "urn:content-classes:calendarmessage"
)

// topClasses gives the class from the top-level media type and the
// parameter that refines it; the first row whose type and parameter
// value (lower case, "*" for any) match wins.
var topClasses = []struct {
	mediaType, param, value, class string
}{
	{"multipart/signed", "protocol", "application/pkcs7-signature", classSMIMESigned},
	{"multipart/signed", "protocol", "application/x-pkcs7-signature", classSMIMESigned},
	{"application/pkcs7-mime", "smime-type", "signed-data", classSMIMESigned},
	{"application/x-pkcs7-mime", "smime-type", "signed-data", classSMIMESigned},
	{"application/pkcs7-mime", "", "*", classSMIME},
	{"application/x-pkcs7-mime", "", "*", classSMIME},
	{"multipart/report", "report-type", "delivery-status", classNDR},
	{"multipart/report", "report-type", "disposition-notification", classReadReceipt},
}

// calendarClasses gives the class of a message with a text/calendar part
// by its METHOD; a REPLY's class is refined by its answer (meeting.go).
var calendarClasses = map[string]string{
	"REQUEST": classMeetingReq,
	"CANCEL":  classMeetingCancel,
	"REPLY":   classMeetingResp,
}

// messageClass returns MessageClass and ContentClass of a message.
func messageClass(top entity, calendarMethod string) (string, string) {
	for _, row := range topClasses {
		if row.mediaType != top.mediaType {
			continue
		}
		if row.value == "*" || strings.ToLower(top.params[row.param]) == row.value {
			return row.class, contentClassMessage
		}
	}
	if c, ok := calendarClasses[calendarMethod]; ok {
		return c, contentClassCalendar
	}
	return classNote, contentClassMessage
}

// isSMIME reports whether the class is one of the S/MIME classes, for
// which MIMESupport 1 asks the MIME body.
func isSMIME(class string) bool { return strings.HasPrefix(class, classSMIME) }
