// Who the UI says it is when it asks the daemon for a task (run, restore,
// verify, gc) or cancels one: recorded as the task's owner, or in its log.
export const UI_OWNER = 'ui'
