import { useEffect, useState } from 'react';
import { api } from '../api/client';
import { BuilderScreen } from '../builder/builder-screen';
import { AccountScreen } from '../screens/account-screen';
import { AuthScreen } from '../screens/auth-screen';
import { GalleryScreen } from '../screens/gallery-screen';
import { ImageScreen } from '../screens/image-screen';
import { JobsScreen } from '../screens/jobs-screen';
import { UploadScreen } from '../screens/upload-screen';
import { WebhooksScreen } from '../screens/webhooks-screen';
import { Link, navigate, Redirect, usePath } from './router';

const NAV: [string, string][] = [
  ['/gallery', 'Gallery'],
  ['/upload', 'Upload'],
  ['/jobs', 'Jobs'],
  ['/webhooks', 'Webhooks'],
  ['/account', 'Account'],
];

function Screen({ path }: { path: string }) {
  const image = /^\/images\/([0-9a-f-]{36})(\/builder)?$/.exec(path);
  if (image) return image[2] ? <BuilderScreen imageId={image[1]} /> : <ImageScreen id={image[1]} />;
  switch (path) {
    case '/gallery':
      return <GalleryScreen />;
    case '/upload':
      return <UploadScreen />;
    case '/jobs':
      return <JobsScreen />;
    case '/webhooks':
      return <WebhooksScreen />;
    case '/account':
      return <AccountScreen />;
    default:
      return <Redirect to="/gallery" />;
  }
}

export function App({ onSignOut }: { onSignOut: () => void }) {
  const path = usePath();
  const [signedIn, setSignedIn] = useState(api.hasSession);
  useEffect(() => api.onSessionChange(setSignedIn), []);
  if (!signedIn) {
    if (path === '/signup') return <AuthScreen mode="signup" />;
    if (path === '/login') return <AuthScreen mode="login" />;
    return <Redirect to="/login" />;
  }
  if (path === '/login' || path === '/signup') return <Redirect to="/gallery" />;
  const logout = async (): Promise<void> => {
    await api.logout();
    onSignOut();
    navigate('/login', true);
  };
  return (
    <>
      <a className="skip" href="#content">
        Skip to content
      </a>
      <header>
        <strong className="brand">Pixmill</strong>
        <nav aria-label="Main">
          {NAV.map(([to, label]) => (
            <Link key={to} to={to} aria-current={path.startsWith(to) ? 'page' : undefined}>
              {label}
            </Link>
          ))}
        </nav>
        <button type="button" onClick={() => void logout()}>
          Log out
        </button>
      </header>
      <div id="content">
        <Screen path={path} />
      </div>
    </>
  );
}
