// Keeps known secret values out of anything written for people to read: logs,
// task logs, error messages. Secrets are registered as they are loaded.
const MIN_SECRET_LENGTH = 4

export class Redactor {
  private readonly secrets = new Set<string>()

  add(value: string): void {
    if (value.length >= MIN_SECRET_LENGTH) this.secrets.add(value)
  }

  redact(text: string): string {
    let out = text
    for (const secret of this.secrets) {
      if (out.includes(secret)) out = out.split(secret).join('<redacted>')
    }
    return out
  }
}

export const redactor = new Redactor()
