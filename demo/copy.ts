/**
 * Copy buttons for peer ids and addresses. A button carries its value in
 * `data-copy`, so rows updated in place keep one listener for the page.
 */

/** How long a button says "Copied" */
const FEEDBACK_MS = 1500

/** A button that copies `value`; `what` names it for screen readers ("peer id") */
export function copyButton (what: string, value: string): HTMLButtonElement {
  const button = document.createElement('button')
  button.type = 'button'
  button.className = 'copy'
  button.textContent = 'Copy'
  button.dataset.testid = 'copy'
  button.dataset.copy = value
  button.title = `Copy ${what}`
  button.setAttribute('aria-label', `Copy ${what}`)
  return button
}

/** `text`, then a copy button for it: one line of a list of ids or addresses */
export function copyable (className: string, text: string, what: string): HTMLElement {
  const line = document.createElement('div')
  line.className = 'copyable'
  const code = document.createElement('code')
  code.className = className
  code.textContent = text
  line.append(code, copyButton(what, text))
  return line
}

function say (button: HTMLButtonElement, text: string, state: string): void {
  button.textContent = text
  button.dataset.state = state
  clearTimeout(Number(button.dataset.timer))
  button.dataset.timer = String(setTimeout(() => {
    button.textContent = 'Copy'
    delete button.dataset.state
  }, FEEDBACK_MS))
}

async function copy (button: HTMLButtonElement): Promise<void> {
  const value = button.dataset.copy ?? ''
  try {
    // undefined outside secure contexts (a page served over plain http from another host)
    await navigator.clipboard.writeText(value)
    say(button, 'Copied', 'copied')
  } catch {
    // no clipboard for us: select the text next to the button, for Ctrl+C
    const target = button.previousElementSibling
    if (target != null) getSelection()?.selectAllChildren(target)
    say(button, 'Selected: press Ctrl+C', 'selected')
  }
}

/** Make every copy button on the page work, those added later too */
export function enableCopyButtons (): void {
  document.addEventListener('click', (event) => {
    const button = (event.target as Element | null)?.closest?.('button[data-copy]')
    if (button instanceof HTMLButtonElement) void copy(button)
  })
}
