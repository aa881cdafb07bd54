// The renderer: a client of the /v1 API only. The full UI comes with its own issue.
import { createApp, h } from 'vue'

createApp({
  render: () => h('main', [h('h1', 'Bulwark'), h('p', 'The daemon API is available under /v1.')]),
}).mount('#app')
