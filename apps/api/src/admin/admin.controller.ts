import { Controller, Get, HttpCode, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { NotFoundException } from '@pixmill/common';
import { ApiProblems } from '../common/api-problems.decorator';
import { AuthUser, CurrentUser } from '../common/current-user.decorator';
import { Public } from '../common/public.decorator';
import { AdminLinkDto } from './admin-link.dto';
import { AdminSessionService, QUEUE_DASHBOARD_PATH } from './admin-session.service';

/**
 * The way into the queue dashboard (docs/decisions/059). Sessions only (no @RequiresScope):
 * an API key never opens it.
 */
@ApiTags('admin')
@Controller()
export class AdminController {
  constructor(private readonly sessions: AdminSessionService) {}

  @Post('v1/admin/queues/session')
  @HttpCode(201)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'A sign-in link to the queue dashboard (admins)',
    description:
      'For an account with the `admin` role (`npm run admin -- set-role EMAIL admin`): a single-use link, valid 60 s, that sets a 15-minute dashboard cookie in the browser that opens it and shows `/admin/queues`. Any other account gets 404.',
  })
  @ApiResponse({ status: 201, type: AdminLinkDto })
  @ApiProblems('unauthorized', ['not_found', 'the account is not an admin'])
  createSession(@CurrentUser() user: AuthUser): Promise<AdminLinkDto> {
    return this.sessions.issueLink(user.id);
  }

  @Public()
  @Get('admin/queues/login')
  @ApiOperation({
    summary: 'Open a dashboard sign-in link (browsers)',
    description: 'Spends the link’s ticket, sets the dashboard cookie (HttpOnly, SameSite=Lax, path /admin/queues, 15 minutes) and redirects to the dashboard. A used, expired or unknown ticket, or an account no longer admin: 404.',
  })
  @ApiQuery({ name: 'ticket', required: true, description: 'From POST /v1/admin/queues/session.' })
  @ApiResponse({
    status: 303,
    description: 'Signed in: on to the dashboard.',
    headers: {
      Location: { description: '/admin/queues/', schema: { type: 'string' } },
      'Set-Cookie': { description: 'The dashboard session (`pixmill_admin`).', schema: { type: 'string' } },
    },
  })
  @ApiProblems(['not_found', 'the ticket is unknown, used or expired, or the account is not an admin'])
  async login(@Query('ticket') ticket: string | undefined, @Res() reply: FastifyReply): Promise<void> {
    const cookie = await this.sessions.redeemTicket(typeof ticket === 'string' ? ticket : '');
    if (!cookie) throw new NotFoundException('Queue dashboard');
    await reply.code(303).header('set-cookie', cookie).header('cache-control', 'no-store').header('location', `${QUEUE_DASHBOARD_PATH}/`).send();
  }
}
