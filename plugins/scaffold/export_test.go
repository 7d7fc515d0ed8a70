package scaffold

// HubRequirements exposes hubRequirements to the external tests.
var HubRequirements = hubRequirements
