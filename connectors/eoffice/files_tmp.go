package eoffice

func registerFormRoutes(r *Router) {}
func registerFileRoutes(r *Router) {}
