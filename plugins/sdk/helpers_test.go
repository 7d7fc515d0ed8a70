package sdk_test

import (
	"encoding/json"
	"errors"
)

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

func errorsAs(err error, target any) bool { return errors.As(err, target) }
