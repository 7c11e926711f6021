package eas

import (
	"encoding/pem"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/easd/easd/eas/model"
	"github.com/easd/easd/internal/httpserver"
)

// CertificatePath is where a user publishes their own S/MIME certificates
// in the directory. EAS has no command for it (on Exchange, Outlook's
// "Publish to GAL" writes the mailbox's directory object), so this is a
// plain HTTP resource with the user's EAS credentials: PUT the
// certificates (PEM, one or more, or a single DER), GET them back as PEM,
// DELETE to unpublish. Only the user's own entry is written, and only
// with certificates for the user's own addresses.
const CertificatePath = "/easd/certificate"

// maxCertBody bounds a PUT: four certificates with chains fit easily.
const maxCertBody = 64 << 10

func (s *Server) registerCertificate(e *echo.Echo) {
	e.GET(CertificatePath, s.certificate)
	e.PUT(CertificatePath, s.certificate)
	e.DELETE(CertificatePath, s.certificate)
}

func (s *Server) certificate(c echo.Context) error {
	ri := httpserver.Info(c)
	ri.Cmd = "PublishCertificate"
	ctx := c.Request().Context()
	creds, err := s.opts.Auth.Authenticate(ctx, c.Request(), c.RealIP())
	ri.User = creds.Login
	if err != nil {
		return s.refuseAuth(c, ri, creds, err)
	}
	pub, ok := s.opts.Directory.(model.CertificatePublisher)
	if !ok {
		// An LDAP directory is written where it is administered.
		return c.String(http.StatusNotImplemented, "this server's directory does not take certificates from users\n")
	}
	var certs [][]byte
	switch c.Request().Method {
	case http.MethodGet:
		certs, err := pub.PublishedCertificates(ctx, creds.Login)
		if err != nil {
			return err
		}
		var out []byte
		for _, der := range certs {
			out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
		}
		return c.Blob(http.StatusOK, "application/pem-certificate-chain", out)
	case http.MethodPut:
		body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxCertBody+1))
		switch {
		case httpserver.IsBodyTooLarge(err) || len(body) > maxCertBody:
			return c.String(http.StatusRequestEntityTooLarge, "too large\n")
		case err != nil:
			return err
		}
		if certs, err = parseCerts(body); err != nil {
			return c.String(http.StatusBadRequest, err.Error()+"\n")
		}
	}
	err = pub.PublishCertificates(ctx, creds.Login, certs)
	if errors.Is(err, model.ErrNotOwnCertificate) {
		ri.Note = err.Error()
		return c.String(http.StatusUnprocessableEntity, err.Error()+"\n")
	}
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// parseCerts reads PEM CERTIFICATE blocks, or the body as one DER
// certificate when it is not PEM.
func parseCerts(body []byte) ([][]byte, error) {
	var certs [][]byte
	rest := body
	for {
		blk, r := pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			return nil, errors.New("a PEM " + blk.Type + ", not a CERTIFICATE: publish certificates, never a private key")
		}
		certs = append(certs, blk.Bytes)
		rest = r
	}
	if len(certs) == 0 && len(body) > 0 {
		certs = [][]byte{body}
	}
	if len(certs) == 0 {
		return nil, errors.New("no certificate: DELETE unpublishes")
	}
	return certs, nil
}
