package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

type authJSONNumber = json.Number

// authDecodeJSON decodes one JSON value, keeping numbers as json.Number
// and rejecting trailing data.
func authDecodeJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}
