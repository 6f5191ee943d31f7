import { useState, type FormEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { session } from '../api/session';
import { ProblemText } from '../app/problem-text';

export function AuthScreen({ mode }: { mode: 'login' | 'signup' }) {
  const navigate = useNavigate();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await (mode === 'login' ? session.login(email, password) : session.signup(email, password));
      navigate('/gallery', { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="auth">
      <h1>{mode === 'login' ? 'Log in to Pixmill' : 'Create your Pixmill account'}</h1>
      <form onSubmit={submit}>
        <label>
          Email
          <input type="email" autoComplete="email" required value={email} onChange={(e) => setEmail(e.target.value)} />
        </label>
        <label>
          Password
          <input
            type="password"
            autoComplete={mode === 'login' ? 'current-password' : 'new-password'}
            minLength={8}
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <ProblemText error={error} />
        <button type="submit" disabled={busy}>
          {mode === 'login' ? 'Log in' : 'Sign up'}
        </button>
      </form>
      <p>{mode === 'login' ? <Link to="/signup">No account yet? Sign up</Link> : <Link to="/login">Have an account? Log in</Link>}</p>
    </main>
  );
}
