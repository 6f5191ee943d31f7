import { Controller, Delete, Get, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { ApiProblems } from '../common/api-problems.decorator';
import { RETRY_AFTER_HEADER } from '../common/response-headers.openapi';
import { AuthUser, CurrentUser } from '../common/current-user.decorator';
import { JobDto, JobPageDto, ListJobsQueryDto, WaitQueryDto } from './job.dto';
import { JobsService } from './jobs.service';
import { RequiresScope } from '../common/api-key-scope.decorator';

@ApiTags('jobs')
@ApiBearerAuth()
@RequiresScope('transformations')
@Controller('v1/jobs')
export class JobsController {
  constructor(private readonly jobs: JobsService) {}

  @Get(':id')
  @ApiOperation({
    summary: 'A job, optionally long-polled',
    description: '`?wait=N` (≤ 30) returns as soon as the job is final, or after N seconds. Non-final answers carry `Retry-After`.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, type: JobDto, headers: RETRY_AFTER_HEADER })
  @ApiProblems('validation_failed', 'unauthorized', 'not_found')
  async get(
    @CurrentUser() user: AuthUser,
    @Param('id') id: string,
    @Query() q: WaitQueryDto,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<JobDto> {
    const job = await this.jobs.getOwnedFinal(user.id, id, q.wait ?? 0);
    if (!JobsService.isFinal(job)) void reply.header('retry-after', '1');
    return this.jobs.toDto(job);
  }

  @Get()
  @ApiOperation({ summary: 'Your jobs, newest first', description: 'Filter by `imageId` and `status`; cursor pagination.' })
  @ApiResponse({ status: 200, type: JobPageDto })
  @ApiProblems('validation_failed', 'unauthorized')
  list(@CurrentUser() user: AuthUser, @Query() q: ListJobsQueryDto): Promise<JobPageDto> {
    return this.jobs.list(user.id, q);
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Cancel a queued job' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiResponse({ status: 200, type: JobDto, description: 'The canceled job.' })
  @ApiProblems('unauthorized', 'not_found', ['job_not_cancelable', 'the job has started or ended'])
  async cancel(@CurrentUser() user: AuthUser, @Param('id') id: string): Promise<JobDto> {
    return this.jobs.toDto(await this.jobs.cancel(user.id, id));
  }
}
