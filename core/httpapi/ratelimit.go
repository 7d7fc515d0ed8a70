package httpapi

// Limiter is what the rate-limit middleware needs. (Placeholder: filled in by
// the limits work.)
type Limiter interface{}
