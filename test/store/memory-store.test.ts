import { memoryStore } from '../../src/server/store/memory-store.ts'
import { describeRegistrationStore } from './registration-store.suite.ts'

describeRegistrationStore('MemoryRegistrationStore', async () => ({ store: memoryStore() }))
