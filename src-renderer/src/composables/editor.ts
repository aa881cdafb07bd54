// The state an editor's form shares with the others: errors on its fields, a
// failure that names none, and whether a save is under way.
import { reactive, ref } from 'vue'
import { describeError, errorField } from './errors'

export function useEditorForm<F extends string>(fields: readonly F[]) {
  const errors = reactive({}) as Partial<Record<F, string>>
  const failure = ref<string | null>(null)
  const busy = ref(false)

  function clear() {
    for (const k of fields) delete errors[k]
    failure.value = null
  }

  /**
   * Runs the save (busy meanwhile). The daemon's refusal lands on the field it
   * names when the form has it, in `failure` otherwise.
   */
  async function submit(save: () => Promise<void>) {
    busy.value = true
    try {
      await save()
    } catch (err) {
      const field = errorField(err) as F | undefined
      if (field && fields.includes(field)) errors[field] = describeError(err)
      else failure.value = describeError(err)
    } finally {
      busy.value = false
    }
  }

  return { errors, failure, busy, clear, submit }
}
