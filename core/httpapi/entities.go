package httpapi

import "github.com/gofiber/fiber/v2"

// Entities is what the entity routes need. (Placeholder: filled in by the
// entity work.)
type Entities interface{}

// bindEntityRoutes binds /api/v1/{entity}... under r (already behind bearerAuth).
func bindEntityRoutes(r fiber.Router, d *Deps) {}
