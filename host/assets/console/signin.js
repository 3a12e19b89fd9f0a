// Signing in and out (P5), and the one-time setup link (P6): the first
// admin's name and password on a fresh server, or a user's new password.
// A setup link carries its token after `#setup=`; the fragment never reaches
// the server's or a proxy's logs, and is removed from the address bar at once.

import { api } from './api.js';

const $ = (id) => document.getElementById(id);

/**
 * Shows the right form; calls `onSignedIn()` once a session exists.
 * `say(message)` shows an error or notice.
 */
export function initSignIn(onSignedIn, say) {
  // With two-factor sign-in on, the server answers `totp_required` to a
  // right password; the form then asks for a code (or a recovery code)
  // and sends everything again.
  let recovery = false;
  $('login-recovery').addEventListener('click', () => {
    recovery = !recovery;
    $('login-code-label').textContent = recovery ? 'Recovery code' : 'Code from your authenticator app';
    $('login-recovery').textContent = recovery ? 'Use a code from the app instead' : 'Use a recovery code instead';
    $('login-code').inputMode = recovery ? 'text' : 'numeric';
    $('login-code').value = '';
    $('login-code').focus();
  });
  $('login-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = $('login-name').value.trim();
    const password = $('login-password').value;
    if (!name || !password) return;
    const body = { name, password };
    const code = $('login-code').value.trim();
    if (!$('login-code-row').hidden && code) body[recovery ? 'recovery_code' : 'code'] = code;
    try {
      await api('POST', '/sign-in', body);
    } catch (err) {
      if (err.code === 'totp_required' || err.code === 'totp_invalid') {
        $('login-code-row').hidden = false;
        $('login-code').required = true;
        $('login-code').select();
        $('login-code').focus();
      } else {
        $('login-password').select();
      }
      return say(err.message);
    }
    $('login-password').value = '';
    $('login-code').value = '';
    $('login-code').required = false;
    $('login-code-row').hidden = true;
    onSignedIn();
  });

  const setup = new URLSearchParams(location.hash.slice(1)).get('setup');
  if (setup) {
    history.replaceState(null, '', location.pathname + location.search);
    return showSetup(setup, onSignedIn, say);
  }
  return false;
}

async function showSetup(token, onSignedIn, say) {
  let info;
  try {
    info = await api('POST', '/setup/inspect', { token });
  } catch (err) {
    showLogin(err.message, say);
    return true;
  }
  $('login').hidden = true;
  $('app').hidden = true;
  $('setup').hidden = false;
  $('setup-title').textContent = info.first_admin ? 'Create the first admin' : `Set the password for ${info.name}`;
  $('setup-intro').textContent = info.first_admin
    ? 'Nobody can administer this server yet. Choose your name and password; this link then stops working.'
    : 'Choose a password. This link works once.';
  $('setup-name-row').hidden = !info.first_admin;
  $('setup-name').required = info.first_admin;
  (info.first_admin ? $('setup-name') : $('setup-password')).focus();
  $('setup-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const password = $('setup-password').value;
    if (password !== $('setup-repeat').value) {
      $('setup-repeat').select();
      return say('The two passwords differ; type the same one twice.');
    }
    const body = { token, password };
    if (info.first_admin) body.name = $('setup-name').value.trim();
    try {
      await api('POST', '/setup', body);
    } catch (err) {
      return say(err.message);
    }
    $('setup').hidden = true;
    onSignedIn();
  });
  return true;
}

/** Shows the sign-in form, with a message when there is one. */
export function showLogin(message, say) {
  $('app').hidden = true;
  $('setup').hidden = true;
  $('login').hidden = false;
  $('login-name').focus();
  if (message) say(message);
}

/** Ends the session on the server (the cookies go with it). */
export async function signOutOnServer() {
  try {
    await api('POST', '/sign-out');
  } catch {
    // Signed out or unreachable: either way the page shows the form.
  }
}
