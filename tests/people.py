"""The test personas, in one place: who they are and the password each signs in with.

alice and bob are artists (alice usually the owner, bob the other artist); root is the studio's admin; carol
is a third artist where a test needs one; sam is the staff member who watches the workers.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User


@dataclass(frozen=True)
class Persona:
    username: str
    password: str
    staff: bool = False  # a superuser: the admin's pages and actions

    @property
    def email(self) -> str:
        return f"{self.username}@example.com"

    def create(self) -> User:
        users = get_user_model().objects
        make = users.create_superuser if self.staff else users.create_user
        return make(self.username, self.email, self.password)

    def login(self) -> dict[str, str]:
        """The login form's fields for this persona."""
        return {"username": self.username, "password": self.password}


ALICE = Persona("alice", "a-long-password-1")
BOB = Persona("bob", "b-long-password-2")
CAROL = Persona("carol", "c-long-password-4")
ROOT = Persona("root", "a-long-password-9", staff=True)
SAM = Persona("sam", "s-long-password-3", staff=True)
