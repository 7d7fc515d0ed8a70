package eoffice

func registerTokenRoutes(r *Router)     {}
func registerDirectoryRoutes(r *Router) {}
func registerFormRoutes(r *Router)      {}
func registerFileRoutes(r *Router)      {}

var userFields = map[string]string{"user_accounts": "userName", "user_id": "", "user_job_number": "code", "phone_number": "workPhone"}
