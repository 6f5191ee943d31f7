import { ApiProperty } from '@nestjs/swagger';

export class AdminLinkDto {
  @ApiProperty({
    description: 'Open it in a browser within a minute, once: it signs that browser in to the queue dashboard for 15 minutes.',
    example: 'https://pixmill.example.com/admin/queues/login?ticket=…',
  })
  url: string;

  @ApiProperty({ format: 'date-time', description: 'When the link stops working if not opened.' })
  expiresAt: string;
}
