"""The audit chain: every change of a tracked record, hash-linked so tampering shows.

Each ``AuditRecord`` stores its content as canonical JSON text, verbatim, and the SHA-256 of
the previous record's hash and that text. ``AuditHead`` holds the last sequence number and
hash; appending takes a lock on it, so records are numbered without gaps.
"""

from django.db import models


class AuditRecord(models.Model):
    seq = models.BigIntegerField(primary_key=True)
    at = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150)
    source = models.CharField(max_length=200)
    action = models.CharField(max_length=20)
    model = models.CharField(max_length=100, blank=True)
    object_pk = models.CharField(max_length=64, blank=True)
    content = models.TextField()
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["model", "object_pk"], name="audit_model_pk"),
            # a login counts the recent failures: without it, every attempt reads the chain
            models.Index(fields=["action", "at"], name="audit_action_at"),
        ]
        verbose_name = "审计记录"
        verbose_name_plural = "审计记录"

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.model}:{self.object_pk} by {self.actor_username}"


class AuditHead(models.Model):
    """The chain's tip (a single row, id 1)."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash}"
