import { useEffect, useState } from 'react';
import { Navigate, NavLink, Route, Routes, useNavigate, useParams } from 'react-router';
import { session } from '../api/session';
import { BuilderScreen } from '../builder/builder-screen';
import { AccountScreen } from '../screens/account-screen';
import { AuthScreen } from '../screens/auth-screen';
import { GalleryScreen } from '../screens/gallery-screen';
import { ImageScreen } from '../screens/image-screen';
import { JobsScreen } from '../screens/jobs-screen';
import { UploadScreen } from '../screens/upload-screen';
import { WebhooksScreen } from '../screens/webhooks-screen';

const NAV: [string, string][] = [
  ['/gallery', 'Gallery'],
  ['/upload', 'Upload'],
  ['/jobs', 'Jobs'],
  ['/webhooks', 'Webhooks'],
  ['/account', 'Account'],
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `/images/:id` and `/images/:id/builder`; an id that cannot be an image's goes back to the gallery. */
function ImageRoute({ builder = false }: { builder?: boolean }) {
  const { id = '' } = useParams();
  if (!UUID.test(id)) return <Navigate to="/gallery" replace />;
  return builder ? <BuilderScreen imageId={id} /> : <ImageScreen id={id} />;
}

/**
 * The console's routes (React Router, declarative; paths the API answers with this page, its SPA
 * fallback). Signed out, only /login and /signup exist; signed in, they lead to the gallery.
 */
export function App({ onSignOut }: { onSignOut: () => void }) {
  const navigate = useNavigate();
  const [signedIn, setSignedIn] = useState(session.hasSession);
  useEffect(() => session.onSessionChange(setSignedIn), []);
  if (!signedIn) {
    return (
      <Routes>
        <Route path="/login" element={<AuthScreen mode="login" />} />
        <Route path="/signup" element={<AuthScreen mode="signup" />} />
        <Route path="*" element={<Navigate to="/login" replace />} />
      </Routes>
    );
  }
  const logout = async (): Promise<void> => {
    await session.logout();
    onSignOut();
    navigate('/login', { replace: true });
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
            <NavLink key={to} to={to}>
              {label}
            </NavLink>
          ))}
        </nav>
        <button type="button" onClick={() => void logout()}>
          Log out
        </button>
      </header>
      <div id="content">
        <Routes>
          <Route path="/gallery" element={<GalleryScreen />} />
          <Route path="/upload" element={<UploadScreen />} />
          <Route path="/jobs" element={<JobsScreen />} />
          <Route path="/webhooks" element={<WebhooksScreen />} />
          <Route path="/account" element={<AccountScreen />} />
          <Route path="/images/:id" element={<ImageRoute />} />
          <Route path="/images/:id/builder" element={<ImageRoute builder />} />
          <Route path="*" element={<Navigate to="/gallery" replace />} />
        </Routes>
      </div>
    </>
  );
}
