// Pages by path. Hash history: the daemon serves one index.html, and the
// sign-in code rides in the fragment, which browsers never send to a server.
import { createRouter, createWebHashHistory, type RouteRecordRaw } from 'vue-router'
import { useConnection } from './stores/connection'

export const PAGES = [
  {
    path: '/',
    name: 'dashboard',
    title: 'Dashboard',
    component: () => import('./pages/DashboardPage.vue'),
  },
  { path: '/jobs', name: 'jobs', title: 'Jobs', component: () => import('./pages/JobsPage.vue') },
  {
    path: '/archives',
    name: 'archives',
    title: 'Archives',
    component: () => import('./pages/ArchivesPage.vue'),
  },
  {
    path: '/tasks',
    name: 'tasks',
    title: 'Tasks',
    component: () => import('./pages/TasksPage.vue'),
  },
  {
    path: '/targets',
    name: 'targets',
    title: 'Targets',
    component: () => import('./pages/TargetsPage.vue'),
  },
  {
    path: '/stores',
    name: 'stores',
    title: 'Stores',
    component: () => import('./pages/StoresPage.vue'),
  },
  {
    path: '/agents',
    name: 'agents',
    title: 'Agents',
    component: () => import('./pages/AgentsPage.vue'),
  },
  {
    path: '/schedules',
    name: 'schedules',
    title: 'Schedules',
    component: () => import('./pages/SchedulesPage.vue'),
  },
  {
    path: '/channels',
    name: 'channels',
    title: 'Notifications',
    component: () => import('./pages/ChannelsPage.vue'),
  },
  {
    path: '/retention',
    name: 'retention',
    title: 'Retention',
    component: () => import('./pages/RetentionPage.vue'),
  },
  {
    path: '/plugins',
    name: 'plugins',
    title: 'Plugins',
    component: () => import('./pages/PluginsPage.vue'),
  },
  // Last and quiet: versions, the data directory and the docs.
  {
    path: '/about',
    name: 'about',
    title: 'About',
    component: () => import('./pages/AboutPage.vue'),
  },
] as const

export function createAppRouter() {
  const routes: RouteRecordRaw[] = [
    ...PAGES.map((p) => ({
      path: p.path,
      name: p.name,
      component: p.component,
      meta: { title: p.title },
    })),
    {
      path: '/archives/:uuid',
      name: 'archive',
      component: () => import('./pages/ArchivePage.vue'),
      meta: { title: 'Archive' },
    },
    {
      path: '/tasks/:uuid',
      name: 'task',
      component: () => import('./pages/TaskPage.vue'),
      meta: { title: 'Task' },
    },
    {
      path: '/signin',
      name: 'signin',
      component: () => import('./pages/SignInPage.vue'),
      meta: { title: 'Sign in', public: true },
    },
    { path: '/:rest(.*)*', redirect: '/' },
  ]
  const router = createRouter({ history: createWebHashHistory(), routes })
  router.beforeEach((to) => {
    const conn = useConnection()
    if (!to.meta.public && !conn.signedIn) {
      return { name: 'signin', query: to.fullPath === '/' ? {} : { next: to.fullPath } }
    }
    return true
  })
  router.afterEach((to) => {
    document.title = `${String(to.meta.title ?? '')} · Bulwark`
  })
  return router
}
