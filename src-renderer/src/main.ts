// The renderer: a client of the daemon's /v1 API only, served by the daemon at
// `/` and loaded by the desktop app. Pinia holds what pages share (the
// connection and live tasks); each page loads its own data through composables.
import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import { createAppRouter } from './router'
import './style.css'

const app = createApp(App)
app.use(createPinia())
app.use(createAppRouter())
app.mount('#app')
