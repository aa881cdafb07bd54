// The question before a row is removed (Delete, Cancel), and its outcome as a
// message: what the removal says it did, or why the daemon refused.
import { useDialog, useMessage } from 'naive-ui'
import { describeError } from './errors'

export interface RemoveQuestion {
  title: string
  content: string
  /** The answer that removes it (default "Delete") and the one that does not ("Cancel"). */
  positiveText?: string
  negativeText?: string
  /** false: no button has the focus when the question opens. */
  autoFocus?: boolean
  /** Removes it; the success message it returns is shown (none: it showed its own). */
  remove: () => Promise<string | void>
  /** A refusal in words (default: the daemon's), or true when it was shown another way. */
  refused?: (err: unknown, text: string) => string | true
  /** How long a refusal shows, in ms (default 8 s). */
  refusedFor?: number
  /** Runs after the removal, whether it worked or not. */
  after?: () => void
}

export function useConfirmRemove() {
  const dialog = useDialog()
  const message = useMessage()
  return function confirmRemove(q: RemoveQuestion) {
    dialog.warning({
      title: q.title,
      content: q.content,
      positiveText: q.positiveText ?? 'Delete',
      negativeText: q.negativeText ?? 'Cancel',
      ...(q.autoFocus === false ? { autoFocus: false } : {}),
      onPositiveClick: async () => {
        try {
          const done = await q.remove()
          if (done) message.success(done)
        } catch (err) {
          const text = describeError(err)
          const shown = q.refused ? q.refused(err, text) : text
          if (shown !== true) message.error(shown, { duration: q.refusedFor ?? 8000 })
        }
        q.after?.()
      },
    })
  }
}
